// The entry point only: the commands live in the KaopingCommands library.
import KaopingCommands

await Kaoping.runProgram()
