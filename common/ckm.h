/*
 * PKCS#11 constants from p11-kit's header, plus the PKCS#11 2.40/3.0
 * mechanisms that p11-kit 0.24's header may lack, in one place.
 */
#ifndef LURK_CKM_H
#define LURK_CKM_H

#include <p11-kit/pkcs11.h>

#ifndef CKM_EDDSA
#define CKM_EDDSA 0x1057UL
#endif
#ifndef CKM_ECDSA_SHA256
#define CKM_ECDSA_SHA256 0x1044UL
#endif
#ifndef CKM_ECDSA_SHA384
#define CKM_ECDSA_SHA384 0x1045UL
#endif
#ifndef CKM_ECDSA_SHA512
#define CKM_ECDSA_SHA512 0x1046UL
#endif

#endif
