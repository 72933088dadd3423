// Command hello is the smallest aws-lambda-go function there is: the baseline the bench
// compares each function's cold start and binary size with.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context) (string, error) { return "hello", nil })
}
