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
// clients, authenticating them through a TokenVerifier the way Django REST
// framework's TokenAuthentication did.
//
// Each order is charged at most once per channel while its charge is live,
// among concurrent callers in one process and, when the store implements
// Locker, across processes.
//
// Service.Refund refunds a paid order for an operator, once per refund
// request id, never beyond what was paid, across instances sharing the
// ledger; OnRefunded tells the host when a refund has succeeded.
package pay
