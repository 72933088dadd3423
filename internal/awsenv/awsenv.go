// Package awsenv builds the AWS SDK configuration of a Lambda function from the
// environment Lambda gives it, without the SDK's config package.
//
// config.LoadDefaultConfig looks for credentials in a chain of places (shared files,
// SSO, web identity, containers, the instance metadata service) and so links the STS,
// SSO, SSO OIDC and sign-in clients. Their package initialisation alone costs a
// Lambda function close to a millisecond of every cold start, for nothing: Lambda
// puts the function role's credentials, its region and nothing else in the
// environment. Operator commands, which run with a person's profile, use the SDK's
// default chain instead (package awsprofile).
package awsenv

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns the SDK configuration the environment (read with getenv) describes,
// as config.LoadDefaultConfig reads the same variables:
//
//   - the region: AWS_REGION, or AWS_DEFAULT_REGION;
//   - the credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
//     (Lambda sets them to the function role's; they last as long as the instance);
//   - the endpoints: AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_DYNAMODB, for the
//     local stand-ins) for one service and AWS_ENDPOINT_URL for all, unless
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
//
// It fails, saying which variable is missing, without a region or credentials.
func Config(getenv func(string) string) (aws.Config, error) {
	region := first(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	if region == "" {
		return aws.Config{}, errors.New("aws configuration: AWS_REGION is not set (Lambda sets it; elsewhere set it to the stack's region)")
	}
	id, secret := first(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"), first(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("aws configuration: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them to the function role's credentials)")
	}
	creds := credentials.StaticCredentialsProvider{Value: aws.Credentials{
		AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"),
		AccountID: getenv("AWS_ACCOUNT_ID"), Source: "EnvConfigCredentials",
	}}
	cfg := aws.Config{
		Region:      region,
		Credentials: creds,
		// One HTTP client for every service client, as LoadDefaultConfig gives them,
		// so that clients of one service share their connections.
		HTTPClient:         awshttp.NewBuildableClient(),
		RuntimeEnvironment: aws.RuntimeEnvironment{EnvironmentIdentifier: aws.ExecutionEnvironmentID(getenv("AWS_EXECUTION_ENV")), Region: region},
	}
	if !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		if u := getenv("AWS_ENDPOINT_URL"); u != "" {
			cfg.BaseEndpoint = aws.String(u)
		}
		cfg.ConfigSources = []any{endpoints(getenv)}
	}
	return cfg, nil
}

// first returns the value of the first of names that is set.
func first(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// endpoints is the configuration source each service client asks for its own endpoint
// (the SDK's service clients look for a GetServiceBaseEndpoint method in
// aws.Config.ConfigSources, as config.EnvConfig has).
type endpoints func(string) string

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SERVICE>, the service's SDK ID in
// capitals with spaces as underscores ("DynamoDB Streams": DYNAMODB_STREAMS).
func (e endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
	if u := e(name); u != "" {
		return u, true, nil
	}
	return "", false, nil
}
