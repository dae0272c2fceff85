// Package objstore keeps what must outlive one host of a cluster, the
// images of paused sandboxes, in an S3-compatible object store, so that
// another node can resume them. Each image is one object: a zstd stream of
// a tar of the files, in which runs of zeros (the empty space of a sparse
// disk image) cost almost nothing, and which unpacks sparse again.
//
// The store is named by a URL, s3://BUCKET[/PREFIX]?endpoint=HOST:PORT,
// with optional region= and insecure=true (plain HTTP). Without endpoint,
// the AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL of the environment is used:
// no service's host name is written here. Credentials come from the S3
// clients' usual places: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or
// the MINIO_ ones), ~/.aws/credentials, or the instance's IAM role.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/runtools/runtools/internal/errdefs"
)

// Store is one bucket (and key prefix) of an S3-compatible object store.
type Store struct {
	c      *minio.Client
	bucket string
	prefix string
}

// Open connects to the store the URL names and makes its bucket if it
// does not exist yet.
func Open(ctx context.Context, raw string) (*Store, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("%w: object store %q: want s3://BUCKET[/PREFIX]?endpoint=HOST:PORT", errdefs.ErrInvalidArgument, raw)
	}
	q := u.Query()
	endpoint, secure, err := endpointOf(q)
	if err != nil {
		return nil, err
	}
	c, err := minio.New(endpoint, &minio.Options{
		Secure: secure, Region: q.Get("region"),
		Creds: credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", endpoint, err)
	}
	s := &Store{c: c, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}
	if err := s.ensureBucket(ctx, q.Get("region")); err != nil {
		return nil, err
	}
	return s, nil
}

// endpointOf is the host:port to reach and whether over TLS: from the
// URL, else from the environment S3 clients read.
func endpointOf(q url.Values) (string, bool, error) {
	secure := q.Get("insecure") != "true"
	if e := q.Get("endpoint"); e != "" {
		return e, secure, nil
	}
	for _, env := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(env); v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return "", false, fmt.Errorf("%w: %s=%q is not a URL", errdefs.ErrInvalidArgument, env, v)
			}
			return u.Host, u.Scheme == "https", nil
		}
	}
	return "", false, fmt.Errorf("%w: the object store URL needs ?endpoint=HOST:PORT (or set AWS_ENDPOINT_URL)", errdefs.ErrInvalidArgument)
}

func (s *Store) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("%w: reaching the object store: %v", errdefs.ErrUnavailable, err)
	}
	if ok {
		return nil
	}
	err = s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("making bucket %s in the object store: %w", s.bucket, err)
	}
	return nil
}

func (s *Store) key(k string) string {
	if s.prefix == "" {
		return k
	}
	return s.prefix + "/" + k
}

// PutDir stores the files of dir named by paths (relative; a directory
// brings what is in it) as the object key, and returns its size.
func (s *Store) PutDir(ctx context.Context, key, dir string, paths []string) (int64, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(pack(pw, dir, paths)) }()
	info, err := s.c.PutObject(ctx, s.bucket, s.key(key), pr, -1, minio.PutObjectOptions{
		ContentType: "application/zstd", PartSize: 64 << 20,
	})
	pr.CloseWithError(err)
	if err != nil {
		return 0, fmt.Errorf("%w: storing %s in the object store: %v", errdefs.ErrUnavailable, key, err)
	}
	return info.Size, nil
}

// GetDir unpacks the object key into dir, which must not exist yet.
func (s *Store) GetDir(ctx context.Context, key, dir string) error {
	obj, err := s.c.GetObject(ctx, s.bucket, s.key(key), minio.GetObjectOptions{})
	if err != nil {
		return fmt.Errorf("%w: fetching %s from the object store: %v", errdefs.ErrUnavailable, key, err)
	}
	defer obj.Close()
	if err := unpack(obj, dir); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return fmt.Errorf("%w: the object store has no %s", errdefs.ErrNotFound, key)
		}
		return fmt.Errorf("fetching %s from the object store: %w", key, err)
	}
	return nil
}

// Remove removes the object key; a missing one is no error.
func (s *Store) Remove(ctx context.Context, key string) error {
	err := s.c.RemoveObject(ctx, s.bucket, s.key(key), minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchKey" {
		return fmt.Errorf("%w: removing %s from the object store: %v", errdefs.ErrUnavailable, key, err)
	}
	return nil
}

var errUnsafe = errors.New("unsafe path in an image")
