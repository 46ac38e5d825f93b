"""Digital signatures for qujat: CMS (CAdES) verification, combination, signing and a test PKI.

A pure library: it never imports Flask or SQLAlchemy and can be used on its own. Verification
answers with a `SignatureReport` (intact / valid / trusted, the signer, the signing time and the
failures, each with a message in Kazakh, Russian and English), or for a SignedData with several
signers (a combined .p7s) with a `SignedDataReport`: one `SignatureReport` per signer.
"""

from signing.combine import combine_signatures
from signing.errors import Failure, FailureCode, Lang
from signing.identity import SignerIdentity, is_valid_iin
from signing.trust import RevocationMode, RevocationPolicy, TrustAnchors
from signing.verify import (
    MAX_SIGNATURE_SIZE,
    MAX_SIGNERS,
    SignatureRejected,
    SignatureReport,
    SignedDataReport,
    Status,
    decode_base64_signature,
    verify_base64_cms,
    verify_cms_signers,
    verify_detached_cms,
    verify_signatures,
)

__all__ = [
    "MAX_SIGNATURE_SIZE",
    "MAX_SIGNERS",
    "Failure",
    "FailureCode",
    "Lang",
    "RevocationMode",
    "RevocationPolicy",
    "SignatureRejected",
    "SignatureReport",
    "SignedDataReport",
    "SignerIdentity",
    "Status",
    "TrustAnchors",
    "combine_signatures",
    "decode_base64_signature",
    "is_valid_iin",
    "verify_base64_cms",
    "verify_cms_signers",
    "verify_detached_cms",
    "verify_signatures",
]
