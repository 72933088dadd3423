// Command peer is the fair baseline the bench compares each function's cold start with:
// a minimal function that builds the same AWS clients as the service (DynamoDB and SES),
// the way the SDK documents it (config.LoadDefaultConfig, then NewFromConfig), and starts
// the Lambda runtime. What a function spends at start-up beyond this is its own.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "load aws config:", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	mail := sesv2.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context) (string, error) {
		_, _ = db, mail // a function's handler would use them; this one only holds them
		return "peer", nil
	})
}
