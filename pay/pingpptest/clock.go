package pingpptest

import (
	"errors"
	"time"
)

// now is the emulator's clock: Config.Now moved ahead by Advance.
func (e *Emulator) now() time.Time {
	return e.clock().Add(time.Duration(e.offset.Load()))
}

// Now returns the emulator's time: Config.Now (default time.Now) plus every
// Advance so far.
func (e *Emulator) Now() time.Time { return e.now() }

// Advance moves the emulator's clock ahead by d, as if that much time had
// passed at Ping++: charges expire, idempotency windows close, and refunds
// whose Config.RefundDelay has passed finish before Advance returns. A
// negative d is an error: Ping++'s clock does not go back.
func (e *Emulator) Advance(d time.Duration) error {
	if d < 0 {
		return errors.New("pingpptest: the clock cannot go back")
	}
	e.offset.Add(int64(d))
	e.mu.Lock()
	close(e.advanced)
	e.advanced = make(chan struct{})
	e.mu.Unlock()
	e.finishDueRefunds()
	return nil
}
