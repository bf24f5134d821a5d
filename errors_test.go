package payorder_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/yianpay/payorder"
)

func TestStatusTable(t *testing.T) {
	tests := []struct {
		err        error
		status     int
		message    string
		httpStatus int
	}{
		{payorder.ErrInvalidRequest, -1, "请求参数错误", http.StatusOK},
		{payorder.ErrOrderNotFound, -2, "订单不存在", http.StatusOK},
		{payorder.ErrOrderNotPayable, -3, "订单已支付", http.StatusOK},
		{payorder.ErrInvalidChannel, -4, "无效的支付通道", http.StatusOK},
		{payorder.ErrPaymentFailed, -4, "支付请求失败", http.StatusOK},
		{payorder.ErrInternal, -5, "服务器内部错误", http.StatusInternalServerError},
		{payorder.ErrInvalidToken, -1, "Invalid token.", http.StatusUnauthorized},
		{payorder.ErrUserInactive, -1, "User inactive or deleted.", http.StatusUnauthorized},
		{io.EOF, -5, "服务器内部错误", http.StatusInternalServerError},
		{nil, 0, "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			code := payorder.ErrorCode(tt.err)
			if code.Status() != tt.status || payorder.ClientMessage(tt.err) != tt.message || code.HTTPStatus() != tt.httpStatus {
				t.Errorf("got status %d message %q http %d, want %d %q %d",
					code.Status(), payorder.ClientMessage(tt.err), code.HTTPStatus(), tt.status, tt.message, tt.httpStatus)
			}
		})
	}
}

func TestErrorsIsAndAsThroughWrapping(t *testing.T) {
	cause := errors.New("connection reset")
	err := fmt.Errorf("handler: %w", payorder.NewError(payorder.CodePaymentFailed, "creating charge", cause))

	if !errors.Is(err, payorder.ErrPaymentFailed) {
		t.Error("errors.Is(err, ErrPaymentFailed) = false")
	}
	if errors.Is(err, payorder.ErrInvalidChannel) {
		t.Error("a payment failure matches ErrInvalidChannel, though both are status -4")
	}
	if !errors.Is(err, cause) {
		t.Error("the cause is not reachable through errors.Is")
	}
	var pe *payorder.Error
	if !errors.As(err, &pe) || pe.Code != payorder.CodePaymentFailed || pe.Status() != -4 {
		t.Errorf("errors.As gave %+v", pe)
	}
	if got, want := err.Error(), "handler: payorder: payment_failed: creating charge: connection reset"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestWithMessageKeepsCode(t *testing.T) {
	err := payorder.NewError(payorder.CodeOrderNotPayable, "closed", nil).WithMessage("订单已关闭")
	if !errors.Is(err, payorder.ErrOrderNotPayable) || payorder.ClientMessage(err) != "订单已关闭" {
		t.Errorf("got %v / %q", err, payorder.ClientMessage(err))
	}
	if payorder.ClientMessage(payorder.ErrOrderNotPayable) != "订单已支付" {
		t.Error("WithMessage changed the sentinel")
	}
}
