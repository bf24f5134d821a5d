// Package pay takes payment for orders through Ping++.
//
// A Service looks orders up in an OrderStore, checks the channel, asks a
// Gateway (normally a *pingxx.Client) for a charge and returns it typed:
//
//	svc, err := pay.New(pay.Config{AppID: "app_…"}, store, client)
//	ch, err := svc.PayForOrder(ctx, "12134676899915430002", channel.Alipay,
//		pay.ForBuyer("15201052252"), pay.ClientIP("203.0.113.7"))
//
// Handler serves the documented endpoint PUT /pay/pay_for_order/ for mobile
// clients as a drop-in for the Django REST framework view they were built
// against: authentication through a TokenVerifier as TokenAuthentication
// does, and content negotiation, methods, body parsing and its limits, and
// the headers of every answer as DRF 3.14 on Django 3.2 decide them, checked
// against answers recorded from a real DRF app (testdata/drf). Its DRF
// messages are English, or DRF's Chinese with WithLanguage(SimplifiedChinese).
//
// Each order is charged at most once per channel while its charge is live,
// among concurrent callers in one process and, when the store implements
// Locker, across processes.
package pay
