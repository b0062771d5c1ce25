from epicenter.cli import main

main()
