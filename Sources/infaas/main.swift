@main enum InfaasMain { static func main() { } }
