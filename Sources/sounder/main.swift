import SounderCLI

SounderCommand.start()
