"""camb_notebook: audio separation as a first-class, visual thing inside Jupyter."""

from ._exceptions import (
    APIError,
    AudioDecodeError,
    AudioFormatError,
    AuthenticationError,
    CambError,
    CancelledError,
    ConfigurationError,
    InputError,
    LimitExceededError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    RequestValidationError,
    ResultExpiredError,
    ServerError,
    SubmitUncertainError,
    TaskFailedError,
    WaitTimeoutError,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AudioDecodeError",
    "AudioFormatError",
    "AuthenticationError",
    "CambError",
    "CancelledError",
    "ConfigurationError",
    "InputError",
    "LimitExceededError",
    "NetworkError",
    "NotFoundError",
    "PaymentRequiredError",
    "RateLimitError",
    "RequestValidationError",
    "ResultExpiredError",
    "ServerError",
    "SubmitUncertainError",
    "TaskFailedError",
    "WaitTimeoutError",
    "__version__",
]
