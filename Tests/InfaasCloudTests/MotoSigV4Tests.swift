import Foundation
import InfaasCloud
import InfaasTestSupport
import Testing

/// Uses the three calls an emulator started with `initialNoAuthActionCount: 3` leaves unchecked
/// to create an IAM user, a policy that allows everything, and a key; returns the key.
func issueKey(_ moto: MotoServer, user: String, http: HTTPClient) throws -> (keyID: String, secret: String) {
    let bootstrap = AWSQueryClient(endpoint: moto.endpoint, region: "us-east-1",
                                   credentials: AWSCredentials(accessKeyID: "AKIDBOOTSTRAP", secretAccessKey: "bootstrap"), http: http)
    _ = try bootstrap.call(service: "iam", action: "CreateUser", version: "2010-05-08", parameters: [("UserName", user)], idempotent: false)
    let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
    _ = try bootstrap.call(service: "iam", action: "PutUserPolicy", version: "2010-05-08",
                           parameters: [("UserName", user), ("PolicyName", "all"), ("PolicyDocument", policy)], idempotent: false)
    let keyXML = try bootstrap.call(service: "iam", action: "CreateAccessKey", version: "2010-05-08", parameters: [("UserName", user)], idempotent: false)
    return (try #require(AWSQueryClient.element("AccessKeyId", in: keyXML)), try #require(AWSQueryClient.element("SecretAccessKey", in: keyXML)))
}

@Suite("Signature V4 against an emulator that checks signatures")
struct MotoSignatureTests {
    @Test func signedCallsAreAcceptedAndAWrongSecretIsRejected() throws {
        guard let moto = try MotoServer.startIfInstalled(initialNoAuthActionCount: 3) else { return }
        defer { moto.stop() }
        let http = HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05))
        let (keyID, secret) = try issueKey(moto, user: "infaas-ci", http: http)

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
        #expect { try AWSConfiguration.resolve(environment: ["AWS_EC2_METADATA_DISABLED": "true"], home: home) } throws: {
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

    /// On EC2 (here: a stand-in metadata service speaking IMDSv2), the instance profile's
    /// temporary keys and the instance's region are used, and never handed to child processes.
    @Test func instanceProfileCredentialsComeFromTheMetadataService() throws {
        try withMetadataService(expiration: "2030-01-01T00:00:00Z") { port in
            let home = try scratch()
            var configuration: AWSConfiguration? = nil
            for _ in 0..<100 where configuration == nil {  // until the stand-in listens
                configuration = try? AWSConfiguration.resolve(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"], home: home)
                if configuration == nil { Thread.sleep(forTimeInterval: 0.1) }
            }
            let resolved = try #require(configuration)
            #expect(resolved.credentials == AWSCredentials(accessKeyID: "ASIAFROMIMDS1", secretAccessKey: "imds-secret", sessionToken: "imds-token"))
            #expect(resolved.region == "eu-central-1" && resolved.profile == "instance-profile" && resolved.expiration != nil)
            #expect(resolved.environment["AWS_SECRET_ACCESS_KEY"] == nil)
            // Far from expiry: the same keys.
            #expect(CredentialSource(resolved).current.accessKeyID == "ASIAFROMIMDS1")
            // Explicit keys still win over the instance's.
            let explicit = try AWSConfiguration.resolve(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)",
                                                                       "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"], home: home)
            #expect(explicit.credentials.accessKeyID == "AK")
        }
    }

    /// Temporary keys about to expire are fetched again before a call is signed with them.
    @Test func expiringInstanceProfileKeysAreRenewed() throws {
        try withMetadataService(expiration: "2000-01-01T00:00:00Z") { port in
            var configuration: AWSConfiguration? = nil
            for _ in 0..<100 where configuration == nil {
                configuration = try? AWSConfiguration.resolve(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"], home: try scratch())
                if configuration == nil { Thread.sleep(forTimeInterval: 0.1) }
            }
            let source = CredentialSource(try #require(configuration))
            let first = source.current.accessKeyID, second = source.current.accessKeyID
            #expect(first != "ASIAFROMIMDS1" && second != first, "expired keys must be fetched again: \(first), \(second)")
            #expect(first.hasPrefix("ASIAFROMIMDS") && second.hasPrefix("ASIAFROMIMDS"))
        }
    }

    /// Runs `body` with a stand-in metadata service on a free port (skips without python3).
    func withMetadataService(expiration: String, _ body: (Int) throws -> Void) throws {
        let port = try MotoServer.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", Self.fakeMetadataService, String(port), expiration]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        guard (try? server.run()) != nil else {
            print("skipping: python3 is not available to stand in for the metadata service")
            return
        }
        defer {  // polled, not waitUntilExit(), which can hang in a synchronous test
            server.terminate()
            for _ in 0..<50 where server.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        }
        try body(port)
    }

    /// IMDSv2 in a few lines: a session token first, then role name, credentials and region.
    static let fakeMetadataService = #"""
        import http.server, json, os, sys, threading
        # A lifetime of its own: terminate() did not always end it (stand-ins of earlier runs lived on for hours).
        threading.Timer(120, lambda: os._exit(0)).start()
        fetched = [0]
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def reply(self, code, text):
                body = text.encode(); self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def do_PUT(self):
                self.reply(200, "imds-session") if self.path == "/latest/api/token" else self.reply(404, "")
            def do_GET(self):
                if self.headers.get("X-aws-ec2-metadata-token") != "imds-session": return self.reply(401, "")
                if self.path == "/latest/meta-data/iam/security-credentials/infaas-worker": fetched[0] += 1
                pages = {"/latest/meta-data/iam/security-credentials/": "infaas-worker",
                         "/latest/meta-data/iam/security-credentials/infaas-worker": json.dumps({"Code": "Success", "AccessKeyId": "ASIAFROMIMDS%d" % fetched[0],
                             "SecretAccessKey": "imds-secret", "Token": "imds-token", "Expiration": sys.argv[2]}),
                         "/latest/meta-data/placement/region": "eu-central-1"}
                self.reply(200, pages[self.path]) if self.path in pages else self.reply(404, "")
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
        """#
}
