import Testing
import InfaasCloud

/// Signature V4 checked against AWS's published example (IAM ListUsers, 2015-08-30) and against
/// vectors computed with botocore's signer (pinned here; see the comments for the inputs).
@Suite("AWS Signature V4")
struct SigV4Tests {
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    var listUsers: SignableRequest {
        SignableRequest(method: "GET", path: "/", query: [("Version", "2010-05-08"), ("Action", "ListUsers")],
                        headers: [("Host", "iam.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")])
    }

    @Test func publishedIAMExample() {
        let signer = SigV4Signer(region: "us-east-1", service: "iam")
        let canonical = signer.canonicalRequest(listUsers, credentials: credentials, amzDate: "20150830T123600Z")
        #expect(canonical == """
            GET
            /
            Action=ListUsers&Version=2010-05-08
            content-type:application/x-www-form-urlencoded; charset=utf-8
            host:iam.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(Digest.hex(Digest.sha256(Array(canonical.utf8))) == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
        let headers = signer.sign(listUsers, credentials: credentials, amzDate: "20150830T123600Z")
        let authorization = headers.first { $0.name == "Authorization" }?.value
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func signingKeyDerivation() {
        let key = SigV4Signer(region: "us-east-1", service: "iam").signingKey(secret: credentials.secretAccessKey, day: "20150830")
        #expect(Digest.hex(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    @Test func postWithBodyAndSessionToken() {
        // botocore SigV4Auth(ec2, us-west-2), POST http://127.0.0.1:5055/ with this body and token.
        let body = "Action=RunInstances&ImageId=ami-12345678&MinCount=1&MaxCount=1&Version=2016-11-15"
        let request = SignableRequest(method: "POST", headers: [("Host", "127.0.0.1:5055"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                      body: Array(body.utf8))
        var withToken = credentials
        withToken.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN"
        let headers = SigV4Signer(region: "us-west-2", service: "ec2").sign(request, credentials: withToken, amzDate: "20261126T101500Z")
        #expect(headers.first { $0.name == "Authorization" }?.value.hasSuffix(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=e0164bfeecc2a9a1c9b924f83fa1326af5204bf0c1331fd9610fb9ed100149ac") == true)
        #expect(headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == "FQoGZXIvYXdzEXAMPLETOKEN" })
    }

    @Test func queryAndPathEncoding() {
        // botocore SigV4Auth(s3 as a generic service, us-east-1): GET /my%20folder/a+b.txt?prefix=x%2Fy&list-type=2&max-keys=10
        var signer = SigV4Signer(region: "us-east-1", service: "s3")
        signer.doubleEncodePath = true
        signer.signContentHash = false
        let request = SignableRequest(method: "GET", path: "/my%20folder/a+b.txt", query: [("prefix", "x/y"), ("list-type", "2"), ("max-keys", "10")],
                                      headers: [("Host", "examplebucket.s3.amazonaws.com")])
        let canonical = signer.canonicalRequest(request, credentials: credentials, amzDate: "20261126T101500Z")
        #expect(canonical.split(separator: "\n").prefix(3).joined(separator: "\n") == "GET\n/my%2520folder/a%2Bb.txt\nlist-type=2&max-keys=10&prefix=x%2Fy")
        let authorization = signer.sign(request, credentials: credentials, amzDate: "20261126T101500Z").first { $0.name == "Authorization" }?.value ?? ""
        #expect(authorization.hasSuffix("Signature=30ebb1a2c1e8f3ee43bb9b7924253b841c166e23e581f17a67f1479c70f5a1af"))
    }

    @Test func theSecretIsNeverPrinted() {
        let headers = SigV4Signer(region: "us-east-1", service: "iam").sign(listUsers, credentials: credentials, amzDate: "20150830T123600Z")
        let everything = "\(credentials) " + headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
        #expect(!everything.contains(credentials.secretAccessKey))
        #expect(everything.contains("AKIDEXAMPLE"))
    }

    @Test func digestsMatchKnownValues() {
        #expect(Digest.hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // RFC 4231 test case 2.
        #expect(Digest.hex(Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
