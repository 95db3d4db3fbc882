import Foundation

/// An EC2 instance as DescribeInstances reports it.
public struct EC2Instance: Sendable, Hashable {
    public var id: String
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`.
    public var state: String
    public var instanceType: String
    public var privateIP: String?
    public var tags: [String: String]

    init(_ item: XMLTree) {
        id = item.string("instanceId") ?? ""
        state = item.string("instanceState", "name") ?? "unknown"
        instanceType = item.string("instanceType") ?? ""
        privateIP = item.string("privateIpAddress")
        var tags: [String: String] = [:]
        for tag in item.child("tagSet")?.children("item") ?? [] {
            if let key = tag.string("key") { tags[key] = tag.string("value") ?? "" }
        }
        self.tags = tags
    }
}

/// What RunInstances needs for one worker.
public struct EC2LaunchSpec: Sendable {
    public var imageID: String
    public var instanceType: String
    /// Makes a retried RunInstances start one instance, not two (at most 64 ASCII characters).
    public var clientToken: String
    /// The start-up script (plain text; encoded here).
    public var userData: String
    public var tags: [String: String]
    /// Ids (`sg-…`) or, in a default VPC, names.
    public var securityGroups: [String]
    /// Name or ARN of the IAM instance profile.
    public var iamInstanceProfile: String?
    public var keyName: String?
    public var subnetID: String?
    public var availabilityZone: String?

    public init(imageID: String, instanceType: String, clientToken: String, userData: String, tags: [String: String],
                securityGroups: [String] = [], iamInstanceProfile: String? = nil, keyName: String? = nil,
                subnetID: String? = nil, availabilityZone: String? = nil) {
        self.imageID = imageID
        self.instanceType = instanceType
        self.clientToken = clientToken
        self.userData = userData
        self.tags = tags
        self.securityGroups = securityGroups
        self.iamInstanceProfile = iamInstanceProfile
        self.keyName = keyName
        self.subnetID = subnetID
        self.availabilityZone = availabilityZone
    }

    /// The Query API parameters.
    var parameters: [(String, String)] {
        var p: [(String, String)] = [("ImageId", imageID), ("InstanceType", instanceType), ("MinCount", "1"), ("MaxCount", "1"),
                                     ("ClientToken", clientToken), ("UserData", Data(userData.utf8).base64EncodedString())]
        for (i, group) in securityGroups.enumerated() {
            p.append((group.hasPrefix("sg-") ? "SecurityGroupId.\(i + 1)" : "SecurityGroup.\(i + 1)", group))
        }
        if let iamInstanceProfile {
            p.append((iamInstanceProfile.hasPrefix("arn:") ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name", iamInstanceProfile))
        }
        if let keyName { p.append(("KeyName", keyName)) }
        if let subnetID { p.append(("SubnetId", subnetID)) }
        if let availabilityZone { p.append(("Placement.AvailabilityZone", availabilityZone)) }
        p.append(("TagSpecification.1.ResourceType", "instance"))
        for (i, (key, value)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            p += [("TagSpecification.1.Tag.\(i + 1).Key", key), ("TagSpecification.1.Tag.\(i + 1).Value", value)]
        }
        return p
    }
}

/// The EC2 calls the provider makes (Query API, version 2016-11-15), typed.
public final class EC2Client: Sendable {
    public static let version = "2016-11-15"
    public let query: AWSQueryClient

    public init(query: AWSQueryClient) { self.query = query }

    public convenience init(configuration: AWSConfiguration, http: HTTPClient = HTTPClient()) {
        self.init(query: AWSQueryClient(endpoint: configuration.endpoint(for: "ec2"), region: configuration.region,
                                        credentialSource: CredentialSource(configuration), http: http))
    }

    func call(_ action: String, _ parameters: [(String, String)], idempotent: Bool) throws(AWSError) -> XMLTree {
        let text = try query.call(service: "ec2", action: action, version: Self.version, parameters: parameters, idempotent: idempotent)
        guard let xml = XMLTree.parse(text) else {
            throw AWSError(code: "MalformedResponse", message: "\(action) answered something that is not XML: \(text.prefix(120))", status: 200)
        }
        return xml
    }

    /// Starts one instance. Retried safely: the client token makes EC2 start it once.
    public func runInstance(_ spec: EC2LaunchSpec) throws(AWSError) -> EC2Instance {
        let xml = try call("RunInstances", spec.parameters, idempotent: true)
        guard let item = xml.at("instancesSet", "item") else {
            throw AWSError(code: "MalformedResponse", message: "RunInstances answered no instance", status: 200)
        }
        return EC2Instance(item)
    }

    /// Instances by id and/or filters (`tag:Name`, `instance-state-name`, …), every page.
    public func describeInstances(ids: [String] = [], filters: [String: [String]] = [:]) throws(AWSError) -> [EC2Instance] {
        var base: [(String, String)] = ids.enumerated().map { ("InstanceId.\($0.offset + 1)", $0.element) }
        for (i, (name, values)) in filters.sorted(by: { $0.key < $1.key }).enumerated() {
            base.append(("Filter.\(i + 1).Name", name))
            for (j, value) in values.enumerated() { base.append(("Filter.\(i + 1).Value.\(j + 1)", value)) }
        }
        var instances: [EC2Instance] = []
        var token: String? = nil
        repeat {
            let xml = try call("DescribeInstances", base + (token.map { [("NextToken", $0)] } ?? []), idempotent: true)
            for reservation in xml.child("reservationSet")?.children("item") ?? [] {
                instances += (reservation.child("instancesSet")?.children("item") ?? []).map(EC2Instance.init)
            }
            token = xml.string("nextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return instances
    }

    public func startInstances(_ ids: [String]) throws(AWSError) { _ = try call("StartInstances", Self.idList(ids), idempotent: true) }
    public func stopInstances(_ ids: [String]) throws(AWSError) { _ = try call("StopInstances", Self.idList(ids), idempotent: true) }
    public func terminateInstances(_ ids: [String]) throws(AWSError) { _ = try call("TerminateInstances", Self.idList(ids), idempotent: true) }

    public func createTags(_ ids: [String], tags: [String: String]) throws(AWSError) {
        var p = Self.idList(ids, name: "ResourceId")
        for (i, (key, value)) in tags.sorted(by: { $0.key < $1.key }).enumerated() { p += [("Tag.\(i + 1).Key", key), ("Tag.\(i + 1).Value", value)] }
        _ = try call("CreateTags", p, idempotent: true)
    }

    public func deleteTags(_ ids: [String], keys: [String]) throws(AWSError) {
        let p = Self.idList(ids, name: "ResourceId") + keys.enumerated().map { ("Tag.\($0.offset + 1).Key", $0.element) }
        _ = try call("DeleteTags", p, idempotent: true)
    }

    /// The instance's start-up script, decoded.
    public func userData(of id: String) throws(AWSError) -> String {
        let xml = try call("DescribeInstanceAttribute", [("InstanceId", id), ("Attribute", "userData")], idempotent: true)
        let encoded = xml.string("userData", "value") ?? ""
        return Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Replaces the start-up script (the instance must be stopped).
    ///
    /// Unlike RunInstances, ModifyInstanceAttribute takes user data that is already base64 (its
    /// `Value` is a blob, which the wire format encodes once more): so the script is encoded twice.
    public func setUserData(of id: String, to script: String) throws(AWSError) {
        let inner = Data(script.utf8).base64EncodedString()
        _ = try call("ModifyInstanceAttribute", [("InstanceId", id), ("UserData.Value", Data(inner.utf8).base64EncodedString())], idempotent: true)
    }

    static func idList(_ ids: [String], name: String = "InstanceId") -> [(String, String)] {
        ids.enumerated().map { ("\(name).\($0.offset + 1)", $0.element) }
    }
}
