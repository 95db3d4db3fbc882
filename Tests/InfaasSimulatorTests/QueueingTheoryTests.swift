import Testing
import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces

@Suite("Simulator against queueing theory")
struct QueueingTheoryTests {
    /// One worker, one variant with a fixed 10 ms service time, Poisson arrivals: the mean wait
    /// must match M/D/1's `ρ / (2μ(1 − ρ))` within 3 %.
    @Test(arguments: [0.5, 0.8])
    func meanWaitMatchesMD1(utilisation rho: Double) throws {
        let serviceMs = 10.0
        var options = SimulationOptions()
        options.latencyNoise = false
        options.seed = 11
        options.deadlineMs = 1e9
        var sim = try simulation([variant("fixed", intercept: serviceMs)], policy: "infaas-no-vm-scaling",
                                 configure: { $0.modelAutoscaler = .none },
                                 applications: [("fixed", 0, 0)], options: options)
        let rate = rho / (serviceMs / 1000)
        let queries = rho < 0.7 ? 400_000.0 : 1_500_000.0
        var arrivals = try SyntheticArrivals(.poisson(rate: rate), durationSeconds: queries / rate, seed: 3)
        let metrics = try sim.run(&arrivals)
        let app = metrics.applications[0]
        #expect(app.served == app.arrivals)
        let meanWaitMs = app.latencySumMs / Double(app.served) - serviceMs
        let mu = 1000 / serviceMs
        let theoryMs = rho / (2 * mu * (1 - rho)) * 1000
        print("MD1 rho=\(rho): simulated \(meanWaitMs) ms, theory \(theoryMs) ms")
        #expect(abs(meanWaitMs - theoryMs) / theoryMs < 0.03, "simulated \(meanWaitMs) ms vs M/D/1 \(theoryMs) ms")
    }
}
