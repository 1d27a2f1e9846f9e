"""blogpub: render Hexo posts into a static site kept in S3, DynamoDB and CloudFront."""

__version__ = "0.1.0"
