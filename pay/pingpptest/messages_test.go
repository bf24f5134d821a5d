package pingpptest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorMessages(t *testing.T) {
	srv := newServer(t, Config{})
	badApp := params("alipay", map[string]any{"app": map[string]any{"id": "app_GuHu9Of9KaTG5GiT"}})
	tests := []struct {
		name, method, path string
		body               any
		header             []string
		status             int
		want               apiErr
	}{
		{"UnknownAppNamesTheKnownOnes", "POST", "/v1/charges", badApp, nil, 400, apiErr{Type: "invalid_request_error", Param: "app",
			Message: "提供了无效的 app id: app_GuHu9Of9KaTG5GiT。本模拟器（pingpptest）只认识 " + DefaultAppID +
				"；用 pingpp-emulator 的 -app-id 参数或 pingpptest.Config.AppIDs 添加。"}},
		{"UnknownAppInEnglish", "GET", "/v1/charges?app%5Bid%5D=app_x", nil, []string{"Accept-Language", "en-US,en;q=0.9"}, 400,
			apiErr{Type: "invalid_request_error", Param: "app[id]",
				Message: "No such app: app_x. This emulator (pingpptest) knows " + DefaultAppID +
					"; add an app id with pingpp-emulator's -app-id flag or pingpptest.Config.AppIDs."}},
		{"NoSuchChargeInEnglish", "GET", "/v1/charges/ch_nope", nil, []string{"Accept-Language", "en"}, 404,
			apiErr{Type: "invalid_request_error", Param: "id", Message: "No such charge: ch_nope"}},
		{"NoSuchChargeInChinese", "GET", "/v1/charges/ch_nope", nil, []string{"Accept-Language", "zh-CN"}, 404,
			apiErr{Type: "invalid_request_error", Param: "id", Message: "未找到 charge : ch_nope。"}},
		{"BadKeyInEnglish", "GET", "/v1/charges/ch_nope", nil, []string{"Authorization", "Bearer sk_test_abc", "Accept-Language", "en"}, 401,
			apiErr{Type: "invalid_request_error", Message: "Invalid API key provided: sk_test_***"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, tt.method, tt.path, tt.body, tt.header...)
			if diff := cmp.Diff(tt.want, decodeErr(t, body)); status != tt.status || diff != "" {
				t.Errorf("status %d, want %d; error (-want +got):\n%s", status, tt.status, diff)
			}
		})
	}
}
