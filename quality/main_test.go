package quality_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests, once the idle
// connections of kafka-go's default transport (which the test sink and
// writers share) are closed.
func TestMain(m *testing.M) {
	code := m.Run()
	if t, ok := kafka.DefaultTransport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
