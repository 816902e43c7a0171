"""What a domain app's own API may use of the engine's: one module, so the rest can change.

    from sagaops.api.public import HasDjangoPermission, StrictCharField, register_error, ...

- views: `SagaopsApiView`, the base class that secures a view whatever the host's DRF defaults;
- fields: strict serializer fields (no coercion of "1" to 1, decimals as strings);
- permissions: `HasDjangoPermission`, the sagas a user may read, the check that it may start one;
- idempotency: the `Idempotency-Key` header, scoped to the caller;
- serializers: the link to a saga that a domain answer embeds;
- errors: the JSON error body, a participant's refusal, `register_error` for the app's exceptions.
"""

from sagaops.api import converters  # noqa: F401  (registers <name:...> for the apps' URLs)
from sagaops.api.errors import business_error_response, error_body, participant_refusal, register_error
from sagaops.api.fields import MoneyField, StrictCharField, StrictIntegerField
from sagaops.api.idempotency import scoped_idempotency_key
from sagaops.api.permissions import HasDjangoPermission, readable_sagas, require_may_start
from sagaops.api.sagas import IDEMPOTENCY_HEADER
from sagaops.api.serializers import SagaLinkOutput, saga_link
from sagaops.api.views import SagaopsApiView
from sagaops.selectors import saga_status

__all__ = [
    "IDEMPOTENCY_HEADER",
    "HasDjangoPermission",
    "MoneyField",
    "SagaLinkOutput",
    "SagaopsApiView",
    "StrictCharField",
    "StrictIntegerField",
    "business_error_response",
    "error_body",
    "participant_refusal",
    "readable_sagas",
    "register_error",
    "require_may_start",
    "saga_link",
    "saga_status",
    "scoped_idempotency_key",
]
