import Foundation
import InfaasCloud
import InfaasTestSupport
import Testing

@Suite("Signature V4 against an emulator that checks signatures")
struct MotoSignatureTests {
    @Test func signedCallsAreAcceptedAndAWrongSecretIsRejected() throws {
        guard let moto = try MotoServer.startIfInstalled(initialNoAuthActionCount: 3) else { return }
        defer { moto.stop() }
        let http = HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05))
        let bootstrap = AWSQueryClient(endpoint: moto.endpoint, region: "us-east-1",
                                       credentials: AWSCredentials(accessKeyID: "AKIDBOOTSTRAP", secretAccessKey: "bootstrap"), http: http)
        // The three unchecked calls: a user, a policy that allows everything, and a key.
        _ = try bootstrap.call(service: "iam", action: "CreateUser", version: "2010-05-08", parameters: [("UserName", "infaas-ci")], idempotent: false)
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try bootstrap.call(service: "iam", action: "PutUserPolicy", version: "2010-05-08",
                               parameters: [("UserName", "infaas-ci"), ("PolicyName", "all"), ("PolicyDocument", policy)], idempotent: false)
        let keyXML = try bootstrap.call(service: "iam", action: "CreateAccessKey", version: "2010-05-08",
                                        parameters: [("UserName", "infaas-ci")], idempotent: false)
        let keyID = try #require(AWSQueryClient.element("AccessKeyId", in: keyXML))
        let secret = try #require(AWSQueryClient.element("SecretAccessKey", in: keyXML))

        let good = AWSQueryClient(endpoint: moto.endpoint, region: "us-west-2",
                                  credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: secret), http: http)
        let answer = try good.call(service: "ec2", action: "DescribeInstances", version: "2016-11-15", idempotent: true)
        #expect(answer.contains("DescribeInstancesResponse"))

        let wrong = AWSQueryClient(endpoint: moto.endpoint, region: "us-west-2",
                                   credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: secret + "x"), http: http)
        #expect {
            try wrong.call(service: "ec2", action: "DescribeInstances", version: "2016-11-15", idempotent: true)
        } throws: { error in
            guard let error = error as? AWSError else { return false }
            return [401, 403].contains(error.status) && !error.description.contains(secret)
        }
        // An unknown key is rejected too.
        let unknown = AWSQueryClient(endpoint: moto.endpoint, region: "us-west-2",
                                     credentials: AWSCredentials(accessKeyID: "AKIDNOSUCHKEY", secretAccessKey: secret), http: http)
        #expect(throws: AWSError.self) { try unknown.call(service: "ec2", action: "DescribeInstances", version: "2016-11-15", idempotent: true) }
    }
}

@Suite("AWS settings resolution")
struct AWSConfigurationTests {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "awscfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/.aws", withIntermediateDirectories: true)
        return dir
    }

    @Test func environmentWinsThenProfileFiles() throws {
        let home = try scratch()
        try """
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = default-secret
            [ci]
            aws_access_key_id = AKIDCI
            aws_secret_access_key = ci-secret
            aws_session_token = ci-token
            """.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8)
        try """
            [default]
            region = eu-west-1
            [profile ci]
            region = us-west-2
            endpoint_url = http://127.0.0.1:5055
              s3 =
                addressing_style = path
            """.write(toFile: home + "/.aws/config", atomically: true, encoding: .utf8)
        let fromEnv = try AWSConfiguration.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION": "ap-south-1"], home: home)
        #expect(fromEnv.credentials.accessKeyID == "AKIDENV" && fromEnv.region == "ap-south-1" && fromEnv.endpointOverride == nil)
        let byDefault = try AWSConfiguration.resolve(environment: [:], home: home)
        #expect(byDefault.credentials.accessKeyID == "AKIDDEFAULT" && byDefault.region == "eu-west-1")
        let ci = try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "ci"], home: home)
        #expect(ci.credentials == AWSCredentials(accessKeyID: "AKIDCI", secretAccessKey: "ci-secret", sessionToken: "ci-token"))
        #expect(ci.region == "us-west-2" && ci.endpoint(for: "ec2") == "http://127.0.0.1:5055")
        let flags = try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "ci", "AWS_ENDPOINT_URL": "http://localhost:1"], home: home,
                                                 region: "us-east-2", endpointURL: "http://127.0.0.1:9/")
        #expect(flags.region == "us-east-2" && flags.endpoint(for: "s3") == "http://127.0.0.1:9")
        #expect(byDefault.endpoint(for: "ec2") == "https://ec2.eu-west-1.amazonaws.com")
        #expect(!ci.description.contains("ci-secret") && !ci.credentials.description.contains("ci-token"))
    }

    @Test func missingPiecesAreClearErrors() throws {
        let home = try scratch()
        #expect { try AWSConfiguration.resolve(environment: [:], home: home) } throws: {
            "\($0)".contains("no AWS credentials") && "\($0)".contains("aws configure")
        }
        #expect { try AWSConfiguration.resolve(environment: ["AWS_ACCESS_KEY_ID": "AK"], home: home) } throws: {
            "\($0)".contains("AWS_SECRET_ACCESS_KEY")
        }
        #expect { try AWSConfiguration.resolve(environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "s"], home: home) } throws: {
            "\($0)".contains("no AWS region")
        }
        #expect { try AWSConfiguration.resolve(environment: ["AWS_PROFILE": "nope"], home: home) } throws: {
            "\($0)".contains("profile nope")
        }
        #expect { try AWSConfiguration.resolve(environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "x"], home: home,
                                                endpointURL: "not a url") } throws: { "\($0)".contains("not a URL") }
    }
}
