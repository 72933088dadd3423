package awsenv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/peergroups/peergroups/internal/awsenv"
)

// lambdaEnv is what Lambda puts in a function's environment (the part the SDK reads).
func lambdaEnv() map[string]string {
	return map[string]string{
		"AWS_REGION":            "eu-west-2",
		"AWS_DEFAULT_REGION":    "eu-west-2",
		"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLEKEY",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN":     "token",
		"AWS_EXECUTION_ENV":     "AWS_Lambda_provided.al2023",
	}
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// recorder is an HTTP server that notes the paths and signatures of the requests it gets.
func recorder(t *testing.T) (*httptest.Server, chan *http.Request) {
	got := make(chan *http.Request, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestTheFunctionsReadTheRoleTheRegionAndTheEndpointsLambdaGivesThem(t *testing.T) {
	db, dbGot := recorder(t)
	streams, streamsGot := recorder(t)
	env := lambdaEnv()
	env["AWS_ENDPOINT_URL_DYNAMODB"] = db.URL
	env["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = streams.URL
	cfg, err := awsenv.Config(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-2" {
		t.Errorf("region %q, want eu-west-2", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAEXAMPLEKEY" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" || creds.Expired() {
		t.Errorf("credentials %+v, want the role's from the environment", creds)
	}

	// Each client goes to its own service's endpoint and signs with the role's key.
	ctx := context.Background()
	dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	dynamodbstreams.NewFromConfig(cfg).ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
	for name, got := range map[string]chan *http.Request{"DynamoDB": dbGot, "DynamoDB Streams": streamsGot} {
		select {
		case r := <-got:
			if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "Credential=ASIAEXAMPLEKEY/") || !strings.Contains(auth, "/eu-west-2/") {
				t.Errorf("%s request signed %q, want the role's key in eu-west-2", name, auth)
			}
			if r.Header.Get("X-Amz-Security-Token") != "token" {
				t.Errorf("%s request without the session token", name)
			}
		default:
			t.Errorf("no %s request reached its AWS_ENDPOINT_URL_ endpoint", name)
		}
	}
}

func TestOneEndpointForEveryServiceUnlessEndpointsAreIgnored(t *testing.T) {
	srv, got := recorder(t)
	env := lambdaEnv()
	env["AWS_ENDPOINT_URL"] = srv.URL
	cfg, err := awsenv.Config(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	sesv2.NewFromConfig(cfg).GetAccount(context.Background(), &sesv2.GetAccountInput{})
	if len(got) != 1 {
		t.Fatalf("%d requests reached AWS_ENDPOINT_URL, want the SES client's", len(got))
	}

	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	env["AWS_ENDPOINT_URL_SESV2"] = srv.URL
	cfg, err = awsenv.Config(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	c := sesv2.NewFromConfig(cfg)
	if e := c.Options().BaseEndpoint; e != nil {
		t.Errorf("endpoint %q, want SES's own when configured endpoints are ignored", *e)
	}
}

func TestWithoutARegionOrCredentialsAFunctionSaysWhichIsMissing(t *testing.T) {
	for missing, unset := range map[string][]string{
		"AWS_REGION":        {"AWS_REGION", "AWS_DEFAULT_REGION"},
		"AWS_ACCESS_KEY_ID": {"AWS_ACCESS_KEY_ID"},
	} {
		env := lambdaEnv()
		for _, k := range unset {
			delete(env, k)
		}
		_, err := awsenv.Config(getenv(env))
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: error %v, want one naming it", missing, err)
		}
	}
}

// The functions' configuration must be what the SDK's own loader makes of the same
// environment: the region, the credentials and each service's endpoint.
func TestTheSameConfigurationAsTheSDKsLoaderInLambda(t *testing.T) {
	env := lambdaEnv()
	env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:1"
	env["AWS_ENDPOINT_URL_SESV2"] = "http://127.0.0.1:2"
	for k, v := range env {
		t.Setenv(k, v)
	}
	// Nothing from this machine's shared files.
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")

	want, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := awsenv.Config(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if got.Region != want.Region {
		t.Errorf("region %q, the SDK's loader %q", got.Region, want.Region)
	}
	gc, _ := got.Credentials.Retrieve(context.Background())
	wc, err := want.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if gc != wc {
		t.Errorf("credentials %+v, the SDK's loader %+v", gc, wc)
	}
	endpoint := func(cfg aws.Config) [2]string {
		return [2]string{aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint), aws.ToString(sesv2.NewFromConfig(cfg).Options().BaseEndpoint)}
	}
	if g, w := endpoint(got), endpoint(want); g != w {
		t.Errorf("endpoints %q, the SDK's loader %q", g, w)
	}
}
