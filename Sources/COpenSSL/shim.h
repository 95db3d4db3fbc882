// The part of OpenSSL's libcrypto infaas-swift uses: SHA-256 and HMAC-SHA256 (AWS SigV4).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
