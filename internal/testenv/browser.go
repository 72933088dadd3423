package testenv

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is the one headless Chromium a test binary's browser tests share: starting
// one costs more than most of the tests' steps.
var chromium struct {
	sync.Mutex
	browser context.Context // the first tab, whose cancelling stops the browser
	stop    func()
	dir     string
	err     error
}

// BrowserTab returns a tab of the test binary's one headless Chromium (started on
// first use), in a browser context of its own, so that no cookie or storage passes
// between tests. The tab closes when the test ends, or after timeout. The test is
// skipped when the machine has no Chromium, except in CI, where it fails.
func BrowserTab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	Require(t)
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium: .ci/run installs it with apt-get")
		}
		t.Skip("no Chromium on this machine: apt-get install chromium")
	}
	chromium.Lock()
	if chromium.browser == nil && chromium.err == nil {
		chromium.err = startChromium(path)
	}
	browser, err := chromium.browser, chromium.err
	chromium.Unlock()
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	tab, closeTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	tab, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(func() { cancel(); closeTab() })
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a Chromium tab: %v", err)
	}
	return tab
}

func startChromium(path string) error {
	dir, err := os.MkdirTemp("", "peergroups-chromium-*")
	if err != nil {
		return err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1024, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
		return err
	}
	chromium.browser, chromium.dir = browser, dir
	chromium.stop = func() { cancelBrowser(); cancelAlloc() }
	return nil
}

// CloseBrowser stops the shared Chromium, if one was started: a TestMain calls it
// after the tests.
func CloseBrowser() {
	chromium.Lock()
	defer chromium.Unlock()
	if chromium.stop != nil {
		chromium.stop()
		os.RemoveAll(chromium.dir)
	}
	chromium.browser, chromium.stop = nil, nil
}
