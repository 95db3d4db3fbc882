import InfaasCLI

await InfaasEntry.main()
