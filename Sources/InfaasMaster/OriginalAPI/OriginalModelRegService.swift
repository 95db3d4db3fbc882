import Foundation
public import GRPCCore
public import InfaasRPC

/// The original INFaaS registration API (`infaaspublic.infaasmodelreg.ModelReg`, reference
/// §2.4) on the master's gRPC port. `RegisterModel` follows the original's flow: the variant's
/// profile is the `.config` named by `config_name`, read from the config bucket (CONFIGDB,
/// `--config-bucket`) or, on a master without one, from its `--config-dir` folder; `url` is the
/// model's folder (`bucket/prefix/` as the original CLI sends it, or `s3://`, `file://`).
///
/// Unlike the original, a submitter other than "tester" is not registered with made-up profile
/// numbers (the original's stub): every registration needs the `.config`.
public struct OriginalModelRegService: Infaaspublic_Infaasmodelreg_ModelReg.SimpleServiceProtocol {
    let master: Master
    /// A local stand-in for the config bucket (nil: only the bucket).
    let configDirectory: String?

    public init(master: Master, configDirectory: String? = nil) {
        self.master = master
        self.configDirectory = configDirectory
    }

    public func registerModel(request: Infaaspublic_Infaasmodelreg_ModelRegRequest, context: ServerContext) async throws -> Infaaspublic_Infaasmodelreg_ModelRegResponse {
        var response = Infaaspublic_Infaasmodelreg_ModelRegResponse()
        do throws(RPCError) {
            let text = try await configText(request.configName)
            var native = Infaas_V1_RegisterModelRequest()
            native.configName = request.configName
            native.configText = text
            native.modelURL = request.url
            native.submitter = request.submitter.isEmpty ? "tester" : request.submitter
            do {
                _ = try await MasterService(master: master).registerModel(request: native, context: context)
            } catch let error as RPCError {
                throw error.code == .alreadyExists ? RPCError(code: .alreadyExists, message: "Model already exists: \(error.message)") : error
            } catch {
                throw RPCError(code: .internalError, message: "Failed to register model: \(error)")
            }
            response.status = OriginalQueryService.reply(.success, "Successfully registered model")
        } catch {
            response.status = OriginalQueryService.reply(.invalid, error.message)
        }
        return response
    }

    /// The `.config` text: from the config bucket when the master has one, else `--config-dir`.
    func configText(_ name: String) async throws(RPCError) -> String {
        guard !name.isEmpty else { throw RPCError(code: .invalidArgument, message: "Failed to GET configuration file: config_name is empty") }
        if master.options.configBucket != nil { return try await master.fetchConfig(named: name) }
        guard let configDirectory else {
            throw RPCError(code: .invalidArgument, message: "Failed to GET configuration file \(name): this master has neither a config bucket (--config-bucket) nor a config folder (--config-dir)")
        }
        guard !name.contains("/"), !name.hasPrefix(".") else {
            throw RPCError(code: .invalidArgument, message: "Failed to GET configuration file \(name): name a file in the config folder, not a path")
        }
        let path = (configDirectory as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RPCError(code: .notFound, message: "Failed to GET configuration file \(name): no such file in the config folder \(configDirectory)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    public func heartbeat(request: Infaaspublic_Infaasmodelreg_HeartbeatRequest, context: ServerContext) async throws -> Infaaspublic_Infaasmodelreg_HeartbeatResponse {
        var response = Infaaspublic_Infaasmodelreg_HeartbeatResponse()
        response.status = OriginalQueryService.reply(.success, "Model registration is up")
        return response
    }
}
