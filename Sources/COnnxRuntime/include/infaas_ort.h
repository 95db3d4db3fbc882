// The part of ONNX Runtime's C API that infaas calls, declared by us.
//
// Layout facts (the order of the OrtApi function table, the OrtApiBase entry points, enum
// values, the OrtCUDAProviderOptions fields) come from the public header
// include/onnxruntime/core/session/onnxruntime_c_api.h of microsoft/onnxruntime (MIT
// licence). ONNX Runtime only ever appends to the OrtApi table, so the first 153 entries
// below are the same in every release that offers the API version we request.
//
// Entries we do not call are `void *` placeholders that keep their header name, so the
// count and order can be checked against the header line by line; the _Static_asserts at
// the end pin the index of every entry we do call.
//
// The library is not linked: infaas_ort_open() dlopen()s it at run time (see loader.c).
#ifndef INFAAS_ORT_H
#define INFAAS_ORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The C API version we ask for: ORT 1.13's. Every entry we call is in that version's table,
/// so any ONNX Runtime from 1.13 on (the pip wheel here is 1.32) answers it.
#define INFAAS_ORT_API_VERSION 13u

// Opaque ONNX Runtime objects.
typedef struct OrtEnv OrtEnv;
typedef struct OrtStatus OrtStatus;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtSession OrtSession;
typedef struct OrtValue OrtValue;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtArenaCfg OrtArenaCfg;

/// ONNX Runtime's allocator interface (only ever used through OrtApi::AllocatorFree).
typedef struct OrtAllocator {
    uint32_t version;
    void *(*Alloc)(struct OrtAllocator *self, size_t size);
    void (*Free)(struct OrtAllocator *self, void *pointer);
    const OrtMemoryInfo *(*Info)(const struct OrtAllocator *self);
} OrtAllocator;

typedef enum OrtErrorCode {
    ORT_OK = 0,
    ORT_FAIL = 1,
    ORT_INVALID_ARGUMENT = 2,
    ORT_NO_SUCHFILE = 3,
    ORT_NO_MODEL = 4,
    ORT_ENGINE_ERROR = 5,
    ORT_RUNTIME_EXCEPTION = 6,
    ORT_INVALID_PROTOBUF = 7,
    ORT_MODEL_LOADED = 8,
    ORT_NOT_IMPLEMENTED = 9,
    ORT_INVALID_GRAPH = 10,
    ORT_EP_FAIL = 11,
} OrtErrorCode;

typedef enum OrtLoggingLevel {
    ORT_LOGGING_LEVEL_VERBOSE = 0,
    ORT_LOGGING_LEVEL_INFO = 1,
    ORT_LOGGING_LEVEL_WARNING = 2,
    ORT_LOGGING_LEVEL_ERROR = 3,
    ORT_LOGGING_LEVEL_FATAL = 4,
} OrtLoggingLevel;

typedef enum ONNXTensorElementDataType {
    ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED = 0,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1,
    // ... further element types are not used by infaas.
} ONNXTensorElementDataType;

typedef enum ONNXType {
    ONNX_TYPE_UNKNOWN = 0,
    ONNX_TYPE_TENSOR = 1,
    // ... sequences, maps, opaque, sparse and optional values are not used by infaas.
} ONNXType;

typedef enum GraphOptimizationLevel {
    ORT_DISABLE_ALL = 0,
    ORT_ENABLE_BASIC = 1,
    ORT_ENABLE_EXTENDED = 2,
    ORT_ENABLE_ALL = 99,
} GraphOptimizationLevel;

typedef enum ExecutionMode {
    ORT_SEQUENTIAL = 0,
    ORT_PARALLEL = 1,
} ExecutionMode;

typedef enum OrtAllocatorType {
    OrtInvalidAllocator = -1,
    OrtDeviceAllocator = 0,
    OrtArenaAllocator = 1,
} OrtAllocatorType;

typedef enum OrtMemType {
    OrtMemTypeCPUInput = -2,
    OrtMemTypeCPUOutput = -1,
    OrtMemTypeDefault = 0,
} OrtMemType;

typedef enum OrtCudnnConvAlgoSearch {
    OrtCudnnConvAlgoSearchExhaustive = 0,
    OrtCudnnConvAlgoSearchHeuristic = 1,
    OrtCudnnConvAlgoSearchDefault = 2,
} OrtCudnnConvAlgoSearch;

/// Options of OrtApi::SessionOptionsAppendExecutionProvider_CUDA, with the three TunableOp
/// fields newer releases read (older ones ignore the tail; zero means "off").
typedef struct OrtCUDAProviderOptions {
    int device_id;
    OrtCudnnConvAlgoSearch cudnn_conv_algo_search;
    size_t gpu_mem_limit;
    int arena_extend_strategy;
    int do_copy_in_default_stream;
    int has_user_compute_stream;
    void *user_compute_stream;
    OrtArenaCfg *default_memory_arena_cfg;
    int tunable_op_enable;
    int tunable_op_tuning_enable;
    int tunable_op_max_tuning_duration_ms;
} OrtCUDAProviderOptions;

/// Every entry returns NULL on success, else an OrtStatus the caller releases.
typedef OrtStatus *InfaasOrtStatusPtr;

/// The OrtApi function table, entries 0 to 152 (SessionOptionsAppendExecutionProvider_CUDA).
typedef struct OrtApi {
    /*   0 */ OrtStatus *(*CreateStatus)(OrtErrorCode code, const char *message);
    /*   1 */ OrtErrorCode (*GetErrorCode)(const OrtStatus *status);
    /*   2 */ const char *(*GetErrorMessage)(const OrtStatus *status);
    /*   3 */ InfaasOrtStatusPtr (*CreateEnv)(OrtLoggingLevel level, const char *log_id, OrtEnv **out);
    /*   4 */ void *CreateEnvWithCustomLogger;
    /*   5 */ void *EnableTelemetryEvents;
    /*   6 */ void *DisableTelemetryEvents;
    /*   7 */ InfaasOrtStatusPtr (*CreateSession)(const OrtEnv *env, const char *model_path,
                                                  const OrtSessionOptions *options, OrtSession **out);
    /*   8 */ void *CreateSessionFromArray;
    /*   9 */ InfaasOrtStatusPtr (*Run)(OrtSession *session, const OrtRunOptions *run_options,
                                        const char *const *input_names, const OrtValue *const *inputs,
                                        size_t input_count, const char *const *output_names,
                                        size_t output_count, OrtValue **outputs);
    /*  10 */ InfaasOrtStatusPtr (*CreateSessionOptions)(OrtSessionOptions **out);
    /*  11 */ void *SetOptimizedModelFilePath;
    /*  12 */ void *CloneSessionOptions;
    /*  13 */ InfaasOrtStatusPtr (*SetSessionExecutionMode)(OrtSessionOptions *options, ExecutionMode mode);
    /*  14 */ void *EnableProfiling;
    /*  15 */ void *DisableProfiling;
    /*  16 */ void *EnableMemPattern;
    /*  17 */ void *DisableMemPattern;
    /*  18 */ void *EnableCpuMemArena;
    /*  19 */ void *DisableCpuMemArena;
    /*  20 */ void *SetSessionLogId;
    /*  21 */ void *SetSessionLogVerbosityLevel;
    /*  22 */ void *SetSessionLogSeverityLevel;
    /*  23 */ InfaasOrtStatusPtr (*SetSessionGraphOptimizationLevel)(OrtSessionOptions *options,
                                                                     GraphOptimizationLevel level);
    /*  24 */ InfaasOrtStatusPtr (*SetIntraOpNumThreads)(OrtSessionOptions *options, int threads);
    /*  25 */ InfaasOrtStatusPtr (*SetInterOpNumThreads)(OrtSessionOptions *options, int threads);
    /*  26 */ void *CreateCustomOpDomain;
    /*  27 */ void *CustomOpDomain_Add;
    /*  28 */ void *AddCustomOpDomain;
    /*  29 */ void *RegisterCustomOpsLibrary;
    /*  30 */ InfaasOrtStatusPtr (*SessionGetInputCount)(const OrtSession *session, size_t *out);
    /*  31 */ InfaasOrtStatusPtr (*SessionGetOutputCount)(const OrtSession *session, size_t *out);
    /*  32 */ void *SessionGetOverridableInitializerCount;
    /*  33 */ InfaasOrtStatusPtr (*SessionGetInputTypeInfo)(const OrtSession *session, size_t index,
                                                            OrtTypeInfo **out);
    /*  34 */ InfaasOrtStatusPtr (*SessionGetOutputTypeInfo)(const OrtSession *session, size_t index,
                                                             OrtTypeInfo **out);
    /*  35 */ void *SessionGetOverridableInitializerTypeInfo;
    /*  36 */ InfaasOrtStatusPtr (*SessionGetInputName)(const OrtSession *session, size_t index,
                                                        OrtAllocator *allocator, char **out);
    /*  37 */ InfaasOrtStatusPtr (*SessionGetOutputName)(const OrtSession *session, size_t index,
                                                         OrtAllocator *allocator, char **out);
    /*  38 */ void *SessionGetOverridableInitializerName;
    /*  39 */ void *CreateRunOptions;
    /*  40 */ void *RunOptionsSetRunLogVerbosityLevel;
    /*  41 */ void *RunOptionsSetRunLogSeverityLevel;
    /*  42 */ void *RunOptionsSetRunTag;
    /*  43 */ void *RunOptionsGetRunLogVerbosityLevel;
    /*  44 */ void *RunOptionsGetRunLogSeverityLevel;
    /*  45 */ void *RunOptionsGetRunTag;
    /*  46 */ void *RunOptionsSetTerminate;
    /*  47 */ void *RunOptionsUnsetTerminate;
    /*  48 */ void *CreateTensorAsOrtValue;
    /*  49 */ InfaasOrtStatusPtr (*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo *info, void *data,
                                                                   size_t data_bytes, const int64_t *shape,
                                                                   size_t rank, ONNXTensorElementDataType type,
                                                                   OrtValue **out);
    /*  50 */ void *IsTensor;
    /*  51 */ InfaasOrtStatusPtr (*GetTensorMutableData)(OrtValue *value, void **out);
    /*  52 */ void *FillStringTensor;
    /*  53 */ void *GetStringTensorDataLength;
    /*  54 */ void *GetStringTensorContent;
    /*  55 */ InfaasOrtStatusPtr (*CastTypeInfoToTensorInfo)(const OrtTypeInfo *type_info,
                                                             const OrtTensorTypeAndShapeInfo **out);
    /*  56 */ InfaasOrtStatusPtr (*GetOnnxTypeFromTypeInfo)(const OrtTypeInfo *type_info, ONNXType *out);
    /*  57 */ void *CreateTensorTypeAndShapeInfo;
    /*  58 */ void *SetTensorElementType;
    /*  59 */ void *SetDimensions;
    /*  60 */ InfaasOrtStatusPtr (*GetTensorElementType)(const OrtTensorTypeAndShapeInfo *info,
                                                         ONNXTensorElementDataType *out);
    /*  61 */ InfaasOrtStatusPtr (*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo *info, size_t *out);
    /*  62 */ InfaasOrtStatusPtr (*GetDimensions)(const OrtTensorTypeAndShapeInfo *info, int64_t *dims,
                                                  size_t rank);
    /*  63 */ void *GetSymbolicDimensions;
    /*  64 */ InfaasOrtStatusPtr (*GetTensorShapeElementCount)(const OrtTensorTypeAndShapeInfo *info,
                                                               size_t *out);
    /*  65 */ InfaasOrtStatusPtr (*GetTensorTypeAndShape)(const OrtValue *value, OrtTensorTypeAndShapeInfo **out);
    /*  66 */ void *GetTypeInfo;
    /*  67 */ void *GetValueType;
    /*  68 */ void *CreateMemoryInfo;
    /*  69 */ InfaasOrtStatusPtr (*CreateCpuMemoryInfo)(OrtAllocatorType type, OrtMemType mem_type,
                                                        OrtMemoryInfo **out);
    /*  70 */ void *CompareMemoryInfo;
    /*  71 */ void *MemoryInfoGetName;
    /*  72 */ void *MemoryInfoGetId;
    /*  73 */ void *MemoryInfoGetMemType;
    /*  74 */ void *MemoryInfoGetType;
    /*  75 */ void *AllocatorAlloc;
    /*  76 */ InfaasOrtStatusPtr (*AllocatorFree)(OrtAllocator *allocator, void *pointer);
    /*  77 */ void *AllocatorGetInfo;
    /*  78 */ InfaasOrtStatusPtr (*GetAllocatorWithDefaultOptions)(OrtAllocator **out);
    /*  79 */ void *AddFreeDimensionOverride;
    /*  80 */ void *GetValue;
    /*  81 */ void *GetValueCount;
    /*  82 */ void *CreateValue;
    /*  83 */ void *CreateOpaqueValue;
    /*  84 */ void *GetOpaqueValue;
    /*  85 */ void *KernelInfoGetAttribute_float;
    /*  86 */ void *KernelInfoGetAttribute_int64;
    /*  87 */ void *KernelInfoGetAttribute_string;
    /*  88 */ void *KernelContext_GetInputCount;
    /*  89 */ void *KernelContext_GetOutputCount;
    /*  90 */ void *KernelContext_GetInput;
    /*  91 */ void *KernelContext_GetOutput;
    /*  92 */ void *ReleaseEnv;
    /*  93 */ void (*ReleaseStatus)(OrtStatus *status);
    /*  94 */ void (*ReleaseMemoryInfo)(OrtMemoryInfo *info);
    /*  95 */ void (*ReleaseSession)(OrtSession *session);
    /*  96 */ void (*ReleaseValue)(OrtValue *value);
    /*  97 */ void *ReleaseRunOptions;
    /*  98 */ void (*ReleaseTypeInfo)(OrtTypeInfo *type_info);
    /*  99 */ void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo *info);
    /* 100 */ void (*ReleaseSessionOptions)(OrtSessionOptions *options);
    /* 101 */ void *ReleaseCustomOpDomain;
    /* 102 */ void *GetDenotationFromTypeInfo;
    /* 103 */ void *CastTypeInfoToMapTypeInfo;
    /* 104 */ void *CastTypeInfoToSequenceTypeInfo;
    /* 105 */ void *GetMapKeyType;
    /* 106 */ void *GetMapValueType;
    /* 107 */ void *GetSequenceElementType;
    /* 108 */ void *ReleaseMapTypeInfo;
    /* 109 */ void *ReleaseSequenceTypeInfo;
    /* 110 */ void *SessionEndProfiling;
    /* 111 */ void *SessionGetModelMetadata;
    /* 112 */ void *ModelMetadataGetProducerName;
    /* 113 */ void *ModelMetadataGetGraphName;
    /* 114 */ void *ModelMetadataGetDomain;
    /* 115 */ void *ModelMetadataGetDescription;
    /* 116 */ void *ModelMetadataLookupCustomMetadataMap;
    /* 117 */ void *ModelMetadataGetVersion;
    /* 118 */ void *ReleaseModelMetadata;
    /* 119 */ void *CreateEnvWithGlobalThreadPools;
    /* 120 */ void *DisablePerSessionThreads;
    /* 121 */ void *CreateThreadingOptions;
    /* 122 */ void *ReleaseThreadingOptions;
    /* 123 */ void *ModelMetadataGetCustomMetadataMapKeys;
    /* 124 */ void *AddFreeDimensionOverrideByName;
    /* 125 */ InfaasOrtStatusPtr (*GetAvailableProviders)(char ***out, int *count);
    /* 126 */ InfaasOrtStatusPtr (*ReleaseAvailableProviders)(char **providers, int count);
    /* 127 */ void *GetStringTensorElementLength;
    /* 128 */ void *GetStringTensorElement;
    /* 129 */ void *FillStringTensorElement;
    /* 130 */ InfaasOrtStatusPtr (*AddSessionConfigEntry)(OrtSessionOptions *options, const char *key, const char *value);
    /* 131 */ void *CreateAllocator;
    /* 132 */ void *ReleaseAllocator;
    /* 133 */ void *RunWithBinding;
    /* 134 */ void *CreateIoBinding;
    /* 135 */ void *ReleaseIoBinding;
    /* 136 */ void *BindInput;
    /* 137 */ void *BindOutput;
    /* 138 */ void *BindOutputToDevice;
    /* 139 */ void *GetBoundOutputNames;
    /* 140 */ void *GetBoundOutputValues;
    /* 141 */ void *ClearBoundInputs;
    /* 142 */ void *ClearBoundOutputs;
    /* 143 */ void *TensorAt;
    /* 144 */ void *CreateAndRegisterAllocator;
    /* 145 */ void *SetLanguageProjection;
    /* 146 */ void *SessionGetProfilingStartTimeNs;
    /* 147 */ void *SetGlobalIntraOpNumThreads;
    /* 148 */ void *SetGlobalInterOpNumThreads;
    /* 149 */ void *SetGlobalSpinControl;
    /* 150 */ void *AddInitializer;
    /* 151 */ void *CreateEnvWithCustomLoggerAndGlobalThreadPools;
    /* 152 */ InfaasOrtStatusPtr (*SessionOptionsAppendExecutionProvider_CUDA)(OrtSessionOptions *options,
                                                                               const OrtCUDAProviderOptions *cuda);
    // Later entries are not used by infaas and not declared.
} OrtApi;

/// ONNX Runtime's entry point (`OrtGetApiBase()` returns a pointer to one of these).
typedef struct OrtApiBase {
    const OrtApi *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

/// Opens the ONNX Runtime shared library at `path` (dlopen, RTLD_NOW | RTLD_LOCAL; never
/// closed) and returns its OrtApiBase. On failure returns NULL and writes a readable reason
/// (the dynamic loader's message, or the missing symbol) into `error` (`error_size` bytes).
const OrtApiBase *infaas_ort_open(const char *path, char *error, size_t error_size);

// The index of every entry we call, so a miscounted placeholder cannot go unnoticed.
#define INFAAS_ORT_INDEX(field) (offsetof(OrtApi, field) / sizeof(void *))
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function and data pointers must have the same size");
_Static_assert(INFAAS_ORT_INDEX(CreateEnv) == 3, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(CreateSession) == 7, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(Run) == 9, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(CreateSessionOptions) == 10, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(SetSessionExecutionMode) == 13, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(SetSessionGraphOptimizationLevel) == 23, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(SetInterOpNumThreads) == 25, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(AddSessionConfigEntry) == 130, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(SessionGetInputCount) == 30, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(SessionGetOutputName) == 37, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(CreateTensorWithDataAsOrtValue) == 49, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(GetTensorMutableData) == 51, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(CastTypeInfoToTensorInfo) == 55, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(GetTensorElementType) == 60, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(GetTensorShapeElementCount) == 64, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(GetTensorTypeAndShape) == 65, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(CreateCpuMemoryInfo) == 69, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(AllocatorFree) == 76, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(GetAllocatorWithDefaultOptions) == 78, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(ReleaseStatus) == 93, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(ReleaseSessionOptions) == 100, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(GetAvailableProviders) == 125, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(ReleaseAvailableProviders) == 126, "OrtApi layout");
_Static_assert(INFAAS_ORT_INDEX(SessionOptionsAppendExecutionProvider_CUDA) == 152, "OrtApi layout");
_Static_assert(sizeof(OrtApi) == 153 * sizeof(void *), "OrtApi layout");

#ifdef __cplusplus
}
#endif

#endif  // INFAAS_ORT_H
