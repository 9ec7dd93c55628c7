namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// Enforces the request body limit in one place for every host (Kestrel and the in-memory test server
/// alike): a declared Content-Length over the limit is refused at once, and a chunked body is cut off
/// when it crosses the limit. Both surface as 413 through the exception handler.
/// </summary>
public sealed class RequestBodyLimit(RequestDelegate next, long maxBytes)
{
    /// <summary>The limit of every request body (1 MiB): TAXII's API root advertises it as its max_content_length.</summary>
    public const long MaxBytes = 1024 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        var length = context.Request.ContentLength;
        if (length > maxBytes)
        {
            throw new BadHttpRequestException(
                $"The request body is {length} bytes; the limit is {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        }

        if (length is null && context.Request.Body.CanRead)
        {
            context.Request.Body = new LimitedStream(context.Request.Body, maxBytes);
        }

        return next(context);
    }

    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw new BadHttpRequestException(
                    $"The request body exceeds the limit of {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
            }

            return read;
        }
    }
}
