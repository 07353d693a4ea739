import SounderCLI

SounderCommand.main()
