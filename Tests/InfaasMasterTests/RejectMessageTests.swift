import GRPCCore
import InfaasCore
import InfaasPolicies
import Testing
@testable import InfaasMaster

/// The master's refusals name the nearest request that would be served (issue 14, item 5).
@Suite("Reject messages")
struct RejectMessageTests {
    let catalogue = try! PolicyCatalogue([fast.variant, slow.variant])
    var architecture: PolicyTarget { .architecture(catalogue.architectureID("tinynet")!) }

    func message(_ reason: RejectReason, _ query: PolicyQuery, prefix: String = "PAR: ") -> String {
        Master.error(for: reason, prefix: prefix, query: query, catalogue: catalogue).message
    }

    @Test func aBatchAboveEveryMaxBatchNamesTheLargest() {
        let text = message(.noVariantMeetsObjectives, PolicyQuery(target: architecture, batch: 9, sloMs: 500))
        #expect(text.hasPrefix("PAR: No model can satisfy this request. Try a different accuracy/latency (batch 9, SLO 500 ms)"))
        #expect(text.contains("the largest max batch among tinynet's variants is 8 (tinynet_fast): send at most 8 inputs per query"), "\(text)")
    }

    @Test func anSLOBelowTheFastestNamesItsLatency() {
        // tinynet_fast: 2·b + 18 ms, so 22 ms at batch 2; CPU variants serve only SLOs above 50 ms.
        let text = message(.noVariantMeetsObjectives, PolicyQuery(target: architecture, batch: 2, sloMs: 1))
        #expect(text.contains("SLO 1 ms)"), "\(text)")
        #expect(text.contains("the fastest of tinynet's variants taking batch 2 is tinynet_fast, predicted at 22 ms"), "\(text)")
        #expect(text.contains("(CPU variants serve only SLOs above 50 ms): use -l 51 or more"), "\(text)")
    }

    @Test func anSLOBetweenTheCPUFloorAndTheFastestNamesTheFastest() {
        // With an accuracy floor of 75 % only tinynet_slow (150 ms at batch 1) qualifies.
        let u = PolicyTarget.useCase(catalogue.useCaseID(task: .classification, dataset: Dataset("imagenet"))!)
        let text = message(.noVariantMeetsObjectives, PolicyQuery(target: u, batch: 1, sloMs: 100, minAccuracy: 75), prefix: "GPAR: ")
        #expect(text.contains("accuracy ≥ 75%)"), "\(text)")
        #expect(text.contains("with accuracy ≥ 75% is tinynet_slow, predicted at 150 ms: use -l 150 or more"), "\(text)")
    }

    @Test func anAccuracyFloorAboveEveryVariantNamesTheBest() {
        let text = message(.noVariantMeetsObjectives, PolicyQuery(target: architecture, batch: 1, sloMs: 500, minAccuracy: 90))
        #expect(text.contains("the most accurate of tinynet's variants taking batch 1 is tinynet_slow at 76%: use -A 76 or less"), "\(text)")
    }

    @Test func aNamedVariantsMaxBatchPointsAtOneThatTakesTheBatch() {
        let slowID = catalogue.variantID("tinynet_slow")!
        let text = message(.batchAboveMaxBatch, PolicyQuery(target: .variant(slowID), batch: 6), prefix: "")
        #expect(text == "batch 6 is above the variant's max batch: tinynet_slow takes at most 4; tinynet_fast takes 8"
                + " (or ask for -a tinynet -l MS and INFaaS picks one)", "\(text)")
    }

    @Test func aMisspeltDatasetOrTaskGetsTheNearestName() {
        #expect(RejectMessages.useCaseHint(task: "classification", dataset: "imagnet", catalogue: catalogue)
                == " (did you mean dataset \"imagenet\"?)")
        #expect(RejectMessages.useCaseHint(task: "clasification", dataset: "imagenet", catalogue: catalogue)
                == " (did you mean task \"classification\"?)")
        #expect(RejectMessages.useCaseHint(task: "classification", dataset: "imagenet", catalogue: catalogue) == "")
    }

    @Test func numbersReadAsTyped() {
        #expect(RejectMessages.number(100) == "100")
        #expect(RejectMessages.number(0.5) == "0.5")
        #expect(RejectMessages.number(0.0001) == "0.0001")
    }
}
