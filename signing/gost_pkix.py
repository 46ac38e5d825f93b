"""GOST signatures on certificates, CRLs and OCSP answers, for pyhanko-certvalidator.

pyhanko-certvalidator checks every signature on a path (certificates, CRLs, OCSP responses and
their responders' certificates) through one `SignatureValidator`. `GostSignatureValidator`
checks the Kazakh GOST 34.10-2015 algorithms with `signing.gost` and hands every other
algorithm to pyhanko's own validator, so RSA and ECDSA behave exactly as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from asn1crypto import algos, keys, x509
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

import signing.gost as gost


class GostSignatureValidator(DefaultSignatureValidator):
    """pyhanko's signature validator, plus GOST 34.10-2015 (512 and 256 bits)."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        oid: str = signature_algorithm["algorithm"].dotted
        key_oid: str = public_key_info["algorithm"]["algorithm"].dotted
        if not (gost.is_gost_oid(oid) or gost.is_gost_oid(key_oid)):
            super().validate_signature(
                signature, signed_data, public_key_info, signature_algorithm, context
            )
            return
        try:
            verified = _verified(oid, signed_data, signature, public_key_info)
        except (gost.UnsupportedGost, gost.GostUnavailable) as exc:
            raise AlgorithmNotSupported(str(exc)) from exc
        except ValueError as exc:  # a damaged key: nothing can verify with it
            raise InvalidSignature(str(exc)) from exc
        if not verified:
            raise InvalidSignature("GOST 34.10-2015 signature does not verify")


_CacheKey = tuple[str, bytes, bytes, bytes]
_verdicts: OrderedDict[_CacheKey, bool] = OrderedDict()
_verdicts_lock = threading.Lock()
_MAX_VERDICTS = 4096


def _verified(oid: str, signed_data: bytes, signature: bytes, spki: keys.PublicKeyInfo) -> bool:
    """Memoised by (algorithm, SHA-256 of the signed bytes, signature, key): a protocol's
    signers share their CA certificates and CRLs, and pyhanko checks each of those signatures
    once per signer's path. Only the digest of the signed bytes is kept (a CRL can be large)."""
    key = (oid, hashlib.sha256(signed_data).digest(), signature, spki.dump())
    with _verdicts_lock:
        if key in _verdicts:
            _verdicts.move_to_end(key)
            return _verdicts[key]
    verdict = gost.verify_signed_data(oid, signed_data, signature, spki)
    with _verdicts_lock:
        _verdicts[key] = verdict
        while len(_verdicts) > _MAX_VERDICTS:
            _verdicts.popitem(last=False)
    return verdict


GOST_SIGNATURE_VALIDATOR = GostSignatureValidator()


def supported_gost_key(spki: keys.PublicKeyInfo) -> bool:
    """A GOST 34.10-2015 key this library can verify with (an issuer worth considering)."""
    try:
        gost.spki_public_key(spki)
    except ValueError:
        return False
    return True


def gost_self_signed(der: bytes) -> bool:
    """Whether a certificate (issuer = subject already checked) verifies with its own key:
    for GOST 34.10-2015 the signature is checked; any other algorithm this library cannot
    check counts as self-signed (a root the operator chose to trust)."""
    cert = x509.Certificate.load(der)
    oid: str = cert["signature_algorithm"]["algorithm"].dotted
    try:
        return gost.verify_signed_data(
            oid, cert["tbs_certificate"].dump(), cert["signature_value"].native, cert.public_key
        )
    except (gost.UnsupportedGost, gost.GostUnavailable):
        return True
    except ValueError:
        return False
