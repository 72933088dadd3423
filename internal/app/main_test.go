package app_test

import (
	"os"
	"testing"

	"github.com/peergroups/peergroups/internal/testenv"
)

// TestMain stops the Chromium the browser tests share once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.CloseBrowser()
	os.Exit(code)
}
