public import InfaasCore

/// What a policy is built from: the catalogue it serves, the cluster's limits and machines, and
/// the configuration the user gave (an experiment's `policy_config:`, `--policy-set`), which a
/// policy may adjust (a preset turns autoscalers off, say).
public struct PolicyContext: Sendable {
    public var catalogue: PolicyCatalogue
    public var limits: ClusterLimits
    public var machines: MachineCatalogue
    public var config: PolicyConfig

    public init(catalogue: PolicyCatalogue, limits: ClusterLimits, machines: MachineCatalogue = MachineCatalogue(), config: PolicyConfig = PolicyConfig()) {
        self.catalogue = catalogue
        self.limits = limits
        self.machines = machines
        self.config = config
    }
}

/// A policy as the registry knows it: a name, a line for `--help`, and how to build it.
public struct PolicyEntry: Sendable {
    public let name: String
    public let summary: String
    let build: @Sendable (PolicyContext) throws(ValidationError) -> any PolicySet

    public init(name: String, summary: String, build: @escaping @Sendable (PolicyContext) throws(ValidationError) -> any PolicySet) {
        self.name = name
        self.summary = summary
        self.build = build
    }

    /// Builds the policy for `context`.
    public func make(_ context: PolicyContext) throws(ValidationError) -> any PolicySet { try build(context) }
}

/// Every policy by name, in one place: `--policy NAME` in `infaas simulate`, `infaas sweep`,
/// `infaas up`, `infaas master` and `infaas worker`, and `policy:` in experiment YAML all resolve
/// through it. Adding a policy is one file that defines it and its ``PolicyEntry``, and one line
/// in ``entries`` (see docs/adding-a-policy.md).
public enum PolicyRegistry {
    /// The registered policies, in the order `--help` lists them.
    public static let entries: [PolicyEntry] = StandardPolicySet.presetEntries + [
        SLOAttainmentAutoscaler.policyEntry,
    ]

    /// The registered names.
    public static var names: [String] { entries.map(\.name) }

    /// `name — summary` lines for help texts.
    public static var descriptions: [String] { entries.map { "\($0.name): \($0.summary)" } }

    /// The entry named `name`; an unknown name is an error that lists the registered ones.
    public static func entry(named name: String) throws(ValidationError) -> PolicyEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw ValidationError(field: "policy", value: name, reason: "is not a registered policy: " + unknownHint(name))
        }
        return entry
    }

    /// For an unknown policy name: the nearest registered ones, then all of them.
    public static func unknownHint(_ name: String) -> String {
        let hint = NameSuggestion.hint(for: name, known: names)
        return (hint.isEmpty ? "" : hint + "; ") + "registered policies: " + names.joined(separator: ", ")
    }

    /// Builds the policy named `name` for `context`.
    public static func make(_ name: String, _ context: PolicyContext) throws(ValidationError) -> any PolicySet {
        try entry(named: name).make(context)
    }

    /// The configuration policy `name` runs with when the user gave `base` (validated).
    public static func resolvedConfig(_ name: String, base: PolicyConfig) throws(ValidationError) -> PolicyConfig {
        try make(name, PolicyContext(catalogue: try PolicyCatalogue([]), limits: ClusterLimits(), config: base)).config
    }
}

/// A model-level autoscaler (reference §4.2): the plan for one worker at one arbiter tick.
/// ``ModelAutoscaler`` (the reference's kinds) is one; a ``StandardPolicySet`` can take another.
public protocol ModelScalingRule: Sendable {
    func plan(worker w: Int, snapshot: ClusterSnapshot) -> ModelScalingPlan
}

extension ModelAutoscaler: ModelScalingRule {}
