// Package awsprofile is the AWS SDK configuration of the commands an operator runs
// against a deployed stack (the seed, the backfills): the SDK's default chain, which
// finds their shared profile, SSO session or environment. The functions do not link
// it: they read the environment Lambda gives them (package awsenv).
package awsprofile

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load loads the SDK configuration the standard way (config.LoadDefaultConfig):
// credentials, region and endpoints from the environment and the shared files.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}
