package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/internal/testport"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// These tests run the example server as separate processes on one
// PostgreSQL database and one standalone emulator, as a deployment of
// several instances would.

// buildOnce builds the server and emulator programs once per test binary.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "payorder-bin-")
	if err != nil {
		return "", err
	}
	for name, pkg := range map[string]string{"server": ".", "pingpp-emulator": "../pingpp-emulator"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
		if err != nil {
			return "", &buildError{pkg, string(out), err}
		}
	}
	return dir, nil
})

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "go build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

func binaries(t *testing.T) (server, emulator string) {
	t.Helper()
	dir, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "server"), filepath.Join(dir, "pingpp-emulator")
}

// proc is a program started by a test; its output lines can be awaited.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func startProc(t *testing.T, env []string, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for more output
			}
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	return p
}

// waitFor returns the rest of the first output line containing marker.
func (p *proc) waitFor(t *testing.T, marker string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s exited before printing %q", p.cmd.Path, marker)
			}
			if _, rest, found := strings.Cut(line, marker); found {
				return strings.TrimSpace(rest)
			}
		case <-timeout:
			t.Fatalf("%s did not print %q within 30s", p.cmd.Path, marker)
		}
	}
}

// cluster is one emulator and a ledger database shared by server instances.
type cluster struct {
	serverBin   string
	emulatorURL string
	db          database
	keyFile     string // the emulator's webhook public key
	client      *pingxx.Client
}

// database is a fresh ledger database of one test, on PostgreSQL or MySQL.
type database struct {
	URL    string                 // DATABASE_URL of the servers
	Count  func(table string) int // rows in a table
	Ledger func() ledger.Ledger   // a ledger on it, for the test to read
}

// forEachDatabase runs test against PostgreSQL and against MySQL, each
// skipped when its test server is not configured.
func forEachDatabase(t *testing.T, test func(t *testing.T, db database)) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	t.Run("PostgreSQL", func(t *testing.T) {
		db := pgtest.New(t)
		pool := db.Pool(t)
		test(t, database{
			URL:    db.URL,
			Count:  func(table string) int { return db.Count(t, table) },
			Ledger: func() ledger.Ledger { return postgres.New(pool, postgres.Config{}) },
		})
	})
	t.Run("MySQL", func(t *testing.T) {
		db := mysqltest.New(t)
		conn := db.Open(t)
		test(t, database{
			URL:    db.URL,
			Count:  func(table string) int { return db.Count(t, table) },
			Ledger: func() ledger.Ledger { return mysql.New(conn, mysql.Config{}) },
		})
	})
}

func startCluster(t *testing.T, db database, createLatency time.Duration, emulatorArgs ...string) *cluster {
	t.Helper()
	serverBin, emulatorBin := binaries(t)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	emu := startProc(t, nil, emulatorBin, append([]string{"-addr", "127.0.0.1:0",
		"-create-latency", createLatency.String(), "-webhook-public-key-out", keyFile}, emulatorArgs...)...)
	apiBase := emu.waitFor(t, "API base:")
	client, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID, BaseURL: apiBase})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{serverBin: serverBin, emulatorURL: strings.TrimSuffix(apiBase, "/v1"), db: db, keyFile: keyFile, client: client}
}

// startServer starts an instance and returns it with its endpoint's base URL.
func (c *cluster) startServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, []string{"DATABASE_URL=" + c.db.URL, "PAYORDER_ADMIN_TOKEN=" + testAdminToken}, c.serverBin,
		append([]string{"-addr", "127.0.0.1:0", "-emulator-url", c.emulatorURL, "-emulator-webhook-key", c.keyFile,
			"-emulator-with-database"}, args...)...)
	endpoint := p.waitFor(t, "payorder: PUT ")
	return p, strings.TrimSuffix(endpoint, "/pay/pay_for_order/")
}

// chargesAtPingpp lists the charges the emulator holds for the seed order,
// whatever Ping++ order number they were made with.
func (c *cluster) chargesAtPingpp(t *testing.T) []*pingxx.Charge {
	t.Helper()
	list, err := c.client.ListCharges(context.Background(), pingxx.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var charges []*pingxx.Charge
	for _, ch := range list.Data {
		if ch.Metadata["order_no"] == seedOrderNo {
			charges = append(charges, ch)
		}
	}
	return charges
}

// TestInstancesCreateOneCharge fires concurrent PUTs for one order at three
// instances: Ping++ makes one charge, and every answer carries it.
func TestInstancesCreateOneCharge(t *testing.T) { forEachDatabase(t, testInstancesCreateOneCharge) }

func testInstancesCreateOneCharge(t *testing.T, db database) {
	c := startCluster(t, db, 300*time.Millisecond)
	var bases []string
	for range 3 {
		_, base := c.startServer(t)
		bases = append(bases, base)
	}
	const perInstance = 10
	ids := make(chan string, 3*perInstance)
	var wg sync.WaitGroup
	for _, base := range bases {
		for range perInstance {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := putForm(t, base, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
				ch, _ := got["ch"].(map[string]any)
				id, _ := ch["id"].(string)
				if got["status"] != 0.0 || id == "" {
					t.Errorf("got %v", got)
				}
				ids <- id
			}()
		}
	}
	wg.Wait()
	close(ids)
	charges := c.chargesAtPingpp(t)
	if len(charges) != 1 {
		t.Fatalf("Ping++ holds %d charges for the order, want 1", len(charges))
	}
	// Ping++'s own idempotency would merge identical creates into one
	// charge: the instances must not even have asked twice.
	if st := c.stats(t); st.ChargeRequests != 1 {
		t.Errorf("the instances sent %d create requests to Ping++, want 1", st.ChargeRequests)
	}
	n := 0
	for id := range ids {
		n++
		if id != charges[0].ID {
			t.Errorf("an answer carries %s, Ping++'s charge is %s", id, charges[0].ID)
		}
	}
	if n != 3*perInstance {
		t.Errorf("%d answers, want %d", n, 3*perInstance)
	}
}

// TestKilledInstanceLeaseExpires kills an instance while it holds the
// order's payment attempt and waits on Ping++; another instance takes the
// attempt over once its lease lapses, repeats the identical create inside
// Ping++'s idempotency window, and gets the charge the dead one created
// instead of a second.
func TestKilledInstanceLeaseExpires(t *testing.T) { forEachDatabase(t, testKilledInstanceLeaseExpires) }

func testKilledInstanceLeaseExpires(t *testing.T, db database) {
	const ttl = time.Second
	c := startCluster(t, db, 3*time.Second)
	a, baseA := c.startServer(t, "-lock-ttl", ttl.String())
	_, baseB := c.startServer(t, "-lock-ttl", ttl.String())

	go func() {
		// The killed instance never answers; its client sees the connection drop.
		putRaw(baseA, seedToken, strings.NewReader("order_no="+seedOrderNo+"&channel=alipay"))
	}()
	// Wait until A has written its attempt and Ping++ has made the charge
	// (the emulator answers 3 s later), then kill A without letting it
	// clean up.
	eventually(t, 20*time.Second, func() bool {
		return db.Count("payorder_ledger") == 1 && len(c.chargesAtPingpp(t)) == 1
	})
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()

	got := putForm(t, baseB, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
	ch, _ := got["ch"].(map[string]any)
	if got["status"] != 0.0 {
		t.Fatalf("instance B answered %v", got)
	}
	if waited := time.Since(killed); waited < ttl/2 {
		t.Errorf("instance B answered %v after the kill: it did not wait for the lease", waited)
	}
	charges := c.chargesAtPingpp(t)
	if len(charges) != 1 || ch["id"] != charges[0].ID {
		t.Errorf("Ping++ holds %d charges; B answered %v", len(charges), ch["id"])
	}
	// A asked once and died; B, taking A's attempt over, asked once more
	// with the identical request and Ping++ answered with A's charge.
	if st := c.stats(t); st.ChargeRequests != 2 || st.ChargesCreated != 1 {
		t.Errorf("create requests %d, charges created %d; want 2 and 1", st.ChargeRequests, st.ChargesCreated)
	}
	if n := db.Count("payorder_charges"); n != 1 {
		t.Errorf("%d charges recorded, want 1", n)
	}
}

// stats reads the standalone emulator's counters.
func (c *cluster) stats(t *testing.T) pingpptest.Stats {
	t.Helper()
	res, err := httpClient.Get(c.emulatorURL + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st pingpptest.Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// putRaw sends a PUT and ignores the outcome.
func putRaw(base, token string, body io.Reader) {
	req, err := newPut(base, token, body)
	if err != nil {
		return
	}
	if res, err := httpClient.Do(req); err == nil {
		res.Body.Close()
	}
}

// TestFrozenHolderHandsOutNoSecondCharge freezes (SIGSTOP) an instance
// that holds the order's attempt and whose create Ping++ has answered but
// whose answer it has not read, past its lease, and moves Ping++'s clock
// past its one-minute idempotency window. A second instance takes the
// attempt over; its identical repeat now makes a second charge at Ping++,
// which it records and hands out. The frozen instance, thawed, finds its
// attempt taken: it records its own charge as the order's orphan and
// answers with the second instance's. Both buyers hold one charge.
func TestFrozenHolderHandsOutNoSecondCharge(t *testing.T) {
	forEachDatabase(t, testFrozenHolder)
}

func testFrozenHolder(t *testing.T, db database) {
	const ttl = time.Second
	c := startCluster(t, db, 2*time.Second)
	a, baseA := c.startServer(t, "-lock-ttl", ttl.String())
	_, baseB := c.startServer(t, "-lock-ttl", ttl.String())

	answerA := make(chan map[string]any, 1)
	go func() {
		req, err := newPut(baseA, seedToken, strings.NewReader("order_no="+seedOrderNo+"&channel=alipay"))
		if err != nil {
			answerA <- map[string]any{"error": err.Error()}
			return
		}
		res, err := httpClient.Do(req)
		if err != nil {
			answerA <- map[string]any{"error": err.Error()}
			return
		}
		defer res.Body.Close()
		var got map[string]any
		json.NewDecoder(res.Body).Decode(&got)
		answerA <- got
	}()
	// A has written its attempt and Ping++ has made the charge; its answer
	// comes 2 s later. Freeze A before it reads it.
	eventually(t, 20*time.Second, func() bool {
		return db.Count("payorder_ledger") == 1 && len(c.chargesAtPingpp(t)) == 1
	})
	thaw := a.freeze(t)
	c.advanceClock(t, 2*time.Minute)

	gotB := putForm(t, baseB, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
	if gotB["status"] != 0.0 {
		t.Fatalf("instance B answered %v", gotB)
	}
	thaw()
	gotA := awaitAnswer(t, answerA)
	idA, idB := chargeID(gotA), chargeID(gotB)
	if gotA["status"] != 0.0 || idA != idB {
		t.Fatalf("the buyers hold two charges: A answered %v, B %v", gotA, gotB)
	}
	rec, err := db.Ledger().Read(context.Background(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	handedOut := 0
	for _, ch := range rec.Charges {
		if !ch.Orphan {
			handedOut++
			if ch.ID != idB {
				t.Errorf("the ledger hands out %s, the buyers hold %s", ch.ID, idB)
			}
		}
	}
	if handedOut != 1 || len(rec.Charges) != len(c.chargesAtPingpp(t)) {
		t.Errorf("ledger: %d charges handed out of %d recorded; Ping++ holds %d", handedOut, len(rec.Charges), len(c.chargesAtPingpp(t)))
	}
}

// TestFrozenRefundHolderRefundsOnce freezes (SIGSTOP) an instance whose
// refund request Ping++ has taken but whose answer it has not read, past
// its lease. A second instance asked for the same refund request takes the
// attempt over: it lists the charge's refunds and finds the refund instead
// of asking again. The frozen instance, thawed, reads its answer: both
// answer the same refund, and Ping++ got one refund request.
func TestFrozenRefundHolderRefundsOnce(t *testing.T) { forEachDatabase(t, testFrozenRefundHolder) }

func testFrozenRefundHolder(t *testing.T, db database) {
	const ttl = time.Second
	portA := strconv.Itoa(testport.Free(t))
	// Refunds stay pending for an hour: no refund.succeeded event tells A's
	// ledger of the refund, so that B can only learn of it by looking.
	c := startCluster(t, db, 0, "-webhook-url", "http://127.0.0.1:"+portA+"/pay/webhook/", "-refund-delay", "1h")
	a, baseA := c.startServer(t, "-lock-ttl", ttl.String(), "-addr", "127.0.0.1:"+portA)
	_, baseB := c.startServer(t, "-lock-ttl", ttl.String())
	id := chargeID(putForm(t, baseA, seedToken, "order_no="+seedOrderNo+"&channel=alipay"))
	res, err := httpClient.Post(c.emulatorURL+"/_emulator/charges/"+id+"/pay", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	eventually(t, 10*time.Second, func() bool {
		return putForm(t, baseA, seedToken, "order_no="+seedOrderNo+"&channel=alipay")["status"] == -3.0
	})
	// Ping++ makes the refund at once and answers 4 s later.
	res, err = httpClient.Post(c.emulatorURL+"/_emulator/faults", "application/json",
		strings.NewReader(`{"route":"POST /v1/charges/{id}/refunds","kind":"latency","latency":"4s","after":true,"times":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	body := `{"order_no":"` + seedOrderNo + `","amount":3000,"request_id":"op-frozen","description":"退一节课"}`
	answerA := make(chan map[string]any, 1)
	go func() {
		_, got := postRefund(t, baseA, "Bearer "+testAdminToken, body)
		answerA <- got
	}()
	eventually(t, 20*time.Second, func() bool { return c.stats(t).RefundsCreated == 1 })
	thaw := a.freeze(t)
	// B waits for A's lease to lapse, takes the attempt over and looks.
	_, gotB := postRefund(t, baseB, "Bearer "+testAdminToken, body)
	rfB, _ := gotB["refund"].(map[string]any)
	if gotB["status"] != 0.0 || rfB["state"] != "pending" || rfB["evidence"] != "found by listing the charge's refunds" {
		t.Fatalf("instance B answered %v; want the refund found by listing, pending", gotB)
	}
	thaw()
	gotA := awaitAnswer(t, answerA)
	rfA, _ := gotA["refund"].(map[string]any)
	if gotA["status"] != 0.0 || rfA["refund_id"] != rfB["refund_id"] {
		t.Fatalf("A answered %v, B %v; want the same refund", gotA, gotB)
	}
	if st := c.stats(t); st.RefundRequests != 1 || st.RefundsCreated != 1 {
		t.Errorf("Ping++ got %d refund requests and made %d refunds; want 1 and 1", st.RefundRequests, st.RefundsCreated)
	}
	rec, err := db.Ledger().Read(context.Background(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if a := rec.RefundAttempt("op-frozen"); a == nil || a.State != ledger.RefundPending || a.RefundID != rfB["refund_id"] {
		t.Errorf("ledger refund attempt %+v; want pending with refund %v", a, rfB["refund_id"])
	}
}

// freeze stops p with SIGSTOP, as a long GC pause or a stalled VM would,
// and returns the function that resumes it (SIGCONT); p is resumed when t
// ends if the test has not done so.
func (p *proc) freeze(t *testing.T) (thaw func()) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Errorf("resuming the frozen instance: %v", err)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}

// awaitAnswer returns the answer a thawed instance sends on answer,
// failing t after 30 s.
func awaitAnswer(t *testing.T, answer <-chan map[string]any) map[string]any {
	t.Helper()
	select {
	case got := <-answer:
		return got
	case <-time.After(30 * time.Second):
		t.Fatal("the thawed instance did not answer within 30 s")
		return nil
	}
}

// chargeID is the id of the charge in an answer of the endpoint.
func chargeID(answer map[string]any) string {
	ch, _ := answer["ch"].(map[string]any)
	id, _ := ch["id"].(string)
	return id
}

// advanceClock moves the standalone emulator's clock through its control API.
func (c *cluster) advanceClock(t *testing.T, d time.Duration) {
	t.Helper()
	res, err := httpClient.Post(c.emulatorURL+"/_emulator/clock", "application/json",
		strings.NewReader(`{"advance":"`+d.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("advancing the emulator's clock: %s", res.Status)
	}
}

// TestHooksSurviveADatabaseRestart pays both seed orders at an instance
// whose fulfilment hook takes 1 s, and crashes its PostgreSQL server (a
// private one, stopped at once) while both hooks run; the server is back
// 3 s later, after the hooks succeeded. Each hook's success is recorded once the database is back, so
// each order's hook ran exactly once however Ping++ redelivered meanwhile.
func TestHooksSurviveADatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	pg := pgtest.Private(t)
	serverBin, emulatorBin := binaries(t)
	serverPort, emulatorPort := strconv.Itoa(testport.Free(t)), strconv.Itoa(testport.Free(t))
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	emu := startProc(t, nil, emulatorBin, "-addr", "127.0.0.1:"+emulatorPort, "-retry-scale", "0.01",
		"-webhook-url", "http://127.0.0.1:"+serverPort+"/pay/webhook/", "-webhook-public-key-out", keyFile)
	emulatorURL := strings.TrimSuffix(emu.waitFor(t, "API base:"), "/v1")
	server := startProc(t, []string{"DATABASE_URL=" + pg.URL}, serverBin, "-addr", "127.0.0.1:"+serverPort,
		"-emulator-url", emulatorURL, "-emulator-webhook-key", keyFile, "-emulator-with-database", "-fulfil-delay", "1s")
	base := strings.TrimSuffix(server.waitFor(t, "payorder: PUT "), "/pay/pay_for_order/")

	for _, buyer := range []struct{ token, orderNo string }{{seedToken, seedOrderNo}, {otherToken, otherOrderNo}} {
		got := putForm(t, base, buyer.token, "order_no="+buyer.orderNo+"&channel=alipay")
		res, err := httpClient.Post(emulatorURL+"/_emulator/charges/"+chargeID(got)+"/pay", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("paying %s: %s", chargeID(got), res.Status)
		}
	}
	// Both payments are recorded and their hooks are running: crash the
	// database under them.
	for range 2 {
		server.waitFor(t, "pay: payment")
	}
	pg.Stop(t)
	time.Sleep(3 * time.Second) // the outage itself, past the hooks' end
	pg.Start(t)

	pool, err := pgxpool.New(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	l := postgres.New(pool, postgres.Config{})
	eventually(t, 90*time.Second, func() bool {
		for _, no := range []string{seedOrderNo, otherOrderNo} {
			if rec, err := l.Read(context.Background(), no); err != nil || rec.Fulfilment.FulfilledAt.IsZero() {
				return false
			}
		}
		return true
	})
	// Fulfilled, the orders' hooks cannot run again: stop the server and
	// count every run it logged.
	server.cmd.Process.Signal(os.Interrupt)
	runs := map[string]int{}
	for line := range server.lines {
		if strings.Contains(line, "order paid: unlock its courses here") {
			for _, no := range []string{seedOrderNo, otherOrderNo} {
				if strings.Contains(line, "order_no="+no) {
					runs[no]++
				}
			}
		}
	}
	for _, no := range []string{seedOrderNo, otherOrderNo} {
		if runs[no] != 1 {
			t.Errorf("order %s: the hook ran %d times, want 1", no, runs[no])
		}
	}
}
