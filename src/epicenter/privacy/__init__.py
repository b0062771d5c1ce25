"""Privacy: keyed pseudonyms, the secret that keys them, and small-count suppression."""

from epicenter.privacy.keys import Pseudonymizer, load_secret

__all__ = ["Pseudonymizer", "load_secret"]
