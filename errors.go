package payorder

import (
	"errors"
	"net/http"
)

// Code names one documented outcome of the library. Codes are stable strings that
// programs may switch on; Status and HTTPStatus map them to the endpoint's envelope.
type Code string

// The codes of DESIGN.md's status table.
const (
	CodeOK              Code = "ok"
	CodeInvalidRequest  Code = "invalid_request"
	CodeOrderNotFound   Code = "order_not_found"
	CodeOrderNotPayable Code = "order_not_payable"
	CodeInvalidChannel  Code = "invalid_channel"
	CodePaymentFailed   Code = "payment_failed"
	// CodeTooManyCharges: the order has as many live charges as the service
	// allows (one per channel and extra); the client sees 支付请求失败.
	CodeTooManyCharges Code = "too_many_charges"
	CodeInternal       Code = "internal"
	// CodeNothingToRefund: the charge has nothing left to refund.
	CodeNothingToRefund Code = "nothing_to_refund"
	// CodeRefundTooLarge: the refund asks for more than is refundable.
	CodeRefundTooLarge Code = "refund_too_large"
	// CodeOrderNotPaid: the order, or the charge named, is not paid.
	CodeOrderNotPaid Code = "order_not_paid"
	// CodeRefundRefused: Ping++ or the channel refused the refund.
	CodeRefundRefused Code = "refund_refused"
	// CodeRefundUnknown: the refund's outcome is not known yet.
	CodeRefundUnknown Code = "refund_outcome_unknown"
	// CodeInvalidToken and CodeUserInactive are authentication failures; the
	// endpoint answers them 401 with {"detail": message} as Django REST
	// framework does, not with the envelope.
	CodeInvalidToken Code = "invalid_token"
	CodeUserInactive Code = "user_inactive"
)

// codeInfo is one row of the status table.
type codeInfo struct {
	status     int    // envelope "status"
	message    string // envelope "message" shown to mobile clients
	httpStatus int
}

// statusTable is the one place that maps codes to the envelope and to HTTP.
// Business outcomes are HTTP 200, as the Django REST framework view the endpoint
// replaces answered them.
var statusTable = map[Code]codeInfo{
	CodeOK:              {0, "", http.StatusOK},
	CodeInvalidRequest:  {-1, "请求参数错误", http.StatusOK},
	CodeOrderNotFound:   {-2, "订单不存在", http.StatusOK},
	CodeOrderNotPayable: {-3, "订单已支付", http.StatusOK},
	CodeInvalidChannel:  {-4, "无效的支付通道", http.StatusOK},
	CodePaymentFailed:   {-4, "支付请求失败", http.StatusOK},
	CodeTooManyCharges:  {-4, "支付请求失败", http.StatusOK},
	CodeInternal:        {-5, "服务器内部错误", http.StatusInternalServerError},
	CodeNothingToRefund: {-6, "没有可退款的金额", http.StatusOK},
	CodeRefundTooLarge:  {-7, "退款金额超过可退金额", http.StatusOK},
	CodeOrderNotPaid:    {-8, "订单未支付", http.StatusOK},
	CodeRefundRefused:   {-9, "退款被拒绝", http.StatusOK},
	CodeRefundUnknown:   {-10, "退款结果未知，请用同一退款请求号重试", http.StatusOK},
	CodeInvalidToken:    {-1, "Invalid token.", http.StatusUnauthorized},
	CodeUserInactive:    {-1, "User inactive or deleted.", http.StatusUnauthorized},
}

// Status returns the envelope status of code c (0 for ok, -5 for unknown codes).
func (c Code) Status() int { return c.info().status }

// Message returns the default envelope message of code c.
func (c Code) Message() string { return c.info().message }

// HTTPStatus returns the HTTP status the endpoint answers with for code c.
func (c Code) HTTPStatus() int { return c.info().httpStatus }

func (c Code) info() codeInfo {
	if info, ok := statusTable[c]; ok {
		return info
	}
	return statusTable[CodeInternal]
}

// Error is the one error type of the library. Code decides how it is reported;
// Message is what a mobile client may be shown; Detail says, for developers and
// logs, what exactly was wrong; Err is the underlying cause, reachable with
// errors.As.
type Error struct {
	Code    Code
	Message string
	Detail  string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := "payorder: " + string(e.Code)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, ErrInvalidChannel) holds for any invalid-channel error,
// however it was wrapped and whatever its detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Status returns the envelope status of the error's code.
func (e *Error) Status() int { return e.Code.Status() }

// HTTPStatus returns the HTTP status of the error's code.
func (e *Error) HTTPStatus() int { return e.Code.HTTPStatus() }

// Sentinels, one per documented outcome. Compare with errors.Is.
var (
	// ErrInvalidRequest: the request is malformed (missing order number, bad field).
	ErrInvalidRequest = &Error{Code: CodeInvalidRequest, Message: CodeInvalidRequest.Message()}
	// ErrOrderNotFound: no such order, or an order of another buyer.
	ErrOrderNotFound = &Error{Code: CodeOrderNotFound, Message: CodeOrderNotFound.Message()}
	// ErrOrderNotPayable: the order is paid, closed or expired.
	ErrOrderNotPayable = &Error{Code: CodeOrderNotPayable, Message: CodeOrderNotPayable.Message()}
	// ErrInvalidChannel: an unknown or disabled channel, or missing or malformed extra.
	ErrInvalidChannel = &Error{Code: CodeInvalidChannel, Message: CodeInvalidChannel.Message()}
	// ErrPaymentFailed: Ping++ did not give a charge (transport error, timeout,
	// error answer, malformed body). The cause is wrapped.
	ErrPaymentFailed = &Error{Code: CodePaymentFailed, Message: CodePaymentFailed.Message()}
	// ErrTooManyCharges: the order already has as many live charges as
	// allowed (pay.Config.MaxLiveCharges); nothing was asked of Ping++.
	ErrTooManyCharges = &Error{Code: CodeTooManyCharges, Message: CodeTooManyCharges.Message()}
	// ErrNothingToRefund: the charge to refund has nothing left to refund
	// (refunded in full, or the rest held by refunds still pending).
	ErrNothingToRefund = &Error{Code: CodeNothingToRefund, Message: CodeNothingToRefund.Message()}
	// ErrRefundTooLarge: the amount asked is more than the charge's paid
	// amount minus what is refunded and what is pending; nothing was asked
	// of Ping++.
	ErrRefundTooLarge = &Error{Code: CodeRefundTooLarge, Message: CodeRefundTooLarge.Message()}
	// ErrOrderNotPaid: the order (or the charge named) is not paid, so there
	// is nothing to refund yet.
	ErrOrderNotPaid = &Error{Code: CodeOrderNotPaid, Message: CodeOrderNotPaid.Message()}
	// ErrRefundRefused: Ping++ refused the refund (an error answer) or the
	// channel did (status failed); no money moved and its amount is free
	// again. The cause is wrapped.
	ErrRefundRefused = &Error{Code: CodeRefundRefused, Message: CodeRefundRefused.Message()}
	// ErrRefundUnknown: the refund was or may have been sent and its outcome
	// is not known yet. Call again with the same request id: it is resolved
	// by looking at the charge's refunds, never by refunding again.
	ErrRefundUnknown = &Error{Code: CodeRefundUnknown, Message: CodeRefundUnknown.Message()}
	// ErrInternal: anything else; details go to logs, never to clients.
	ErrInternal = &Error{Code: CodeInternal, Message: CodeInternal.Message()}
	// ErrInvalidToken: a TokenVerifier knows no such login token.
	ErrInvalidToken = &Error{Code: CodeInvalidToken, Message: CodeInvalidToken.Message()}
	// ErrUserInactive: the token's user is inactive or deleted.
	ErrUserInactive = &Error{Code: CodeUserInactive, Message: CodeUserInactive.Message()}
)

// NewError returns a new *Error with code and the default message of that code,
// detail and an optional cause.
func NewError(code Code, detail string, cause error) *Error {
	return &Error{Code: code, Message: code.Message(), Detail: detail, Err: cause}
}

// WithMessage returns a copy of e whose client-visible message is msg.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// ErrorCode returns the code of err: CodeOK for nil, the code of the first
// *Error in err's chain, CodeInternal otherwise.
func ErrorCode(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ClientMessage returns what a client may be shown for err: the message of
// its *Error, or the generic internal message for anything else.
func ClientMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Message != "" {
			return e.Message
		}
		return e.Code.Message()
	}
	if err == nil {
		return ""
	}
	return CodeInternal.Message()
}
