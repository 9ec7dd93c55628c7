using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// Sends fuzzed requests to the API on loopback Kestrel: through HttpClient when it can carry them, and
/// byte for byte over a socket when they hold what HttpClient refuses (control bytes, non-ASCII, broken framing).
/// </summary>
public sealed class RawHttp(Uri baseAddress) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        BaseAddress = baseAddress,
        Timeout = Timeout,
    };

    public async Task<FuzzResponse> SendAsync(FuzzRequest request, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            return request.NeedsRawSocket
                ? await SendRawAsync(request, stopwatch, cancellationToken)
                : await SendWithClientAsync(request, stopwatch, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var message = new System.Text.StringBuilder($"{ex.GetType().Name}: {ex.Message}");
            for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            {
                message.Append(" → ").Append(inner.GetType().Name).Append(": ").Append(inner.Message);
            }

            return new FuzzResponse(null, null, [], [], stopwatch.Elapsed, message.ToString());
        }
    }

    private async Task<FuzzResponse> SendWithClientAsync(FuzzRequest request, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        // Dot segments and odd escapes must reach the server as generated, not canonicalised by System.Uri.
        var uri = new Uri(_client.BaseAddress!.GetLeftPart(UriPartial.Authority) + request.Target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        if (request.Body is not null)
        {
            message.Content = request.Chunked ? new StreamContent(new MemoryStream(request.Body)) : new ByteArrayContent(request.Body);
        }

        foreach (var (name, value) in request.Headers)
        {
            if (IsContentHeader(name))
            {
                message.Content ??= new ByteArrayContent([]);
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (request.Chunked)
        {
            message.Headers.TransferEncodingChunked = true;
        }

        if (request.Body?.Length > 1024 * 1024)
        {
            // As a careful client would for a large body: the server can refuse it (413) before any byte is sent,
            // instead of closing the connection while HttpClient is still writing.
            message.Headers.ExpectContinue = true;
        }

        // A fresh connection per request: after refusing a request Kestrel may close a kept-alive connection,
        // and reusing it would fail the next request for a reason that is not the next request's.
        message.Headers.ConnectionClose = true;

        using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v)))
            .ToList();
        return new FuzzResponse((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, headers, body, stopwatch.Elapsed, null);
    }

    private static bool IsContentHeader(string name) =>
        name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Language", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase);

    private async Task<FuzzResponse> SendRawAsync(FuzzRequest request, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var bytes = Frame(request, _client.BaseAddress!);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(_client.BaseAddress!.Host, _client.BaseAddress.Port, timeout.Token);
        try
        {
            await socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            // The server may answer and close before it has read everything; the answer is what counts.
        }

        if (request.ClientEndsBodyEarly)
        {
            // The server waits for body bytes that will never come: end the stream so it answers now. Only here:
            // Kestrel takes a half-closed connection for a client that went away and may drop the response.
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
            }
        }

        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException) when (received.Length > 0)
        {
            // Reset after the response was written: keep what arrived.
        }

        return Parse(received.ToArray(), stopwatch.Elapsed);
    }

    /// <summary>Builds the request bytes, applying the wire mutation.</summary>
    public static byte[] Frame(FuzzRequest request, Uri baseAddress)
    {
        var wire = request.Wire;
        var eol = wire == WireMutation.BareLineFeeds ? "\n" : "\r\n";
        var method = wire == WireMutation.LowerCaseMethod ? request.Method.ToLowerInvariant() : request.Method;
        var target = wire == WireMutation.AbsoluteFormTarget ? $"http://intelsharing.example{request.Target}" : request.Target;
        var version = wire == WireMutation.Http10 ? "HTTP/1.0" : "HTTP/1.1";
        var body = request.Body ?? [];

        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(' ').Append(version).Append(eol);
        if (wire != WireMutation.MissingHost)
        {
            head.Append("Host: ").Append(baseAddress.Authority).Append(eol);
        }

        if (wire == WireMutation.TwoHosts)
        {
            head.Append("Host: intelsharing.example").Append(eol);
        }

        foreach (var (name, value) in request.Headers)
        {
            head.Append(name).Append(wire == WireMutation.SpaceBeforeColon ? " : " : ": ").Append(value).Append(eol);
        }

        switch (wire)
        {
            case WireMutation.ObsoleteLineFolding:
                head.Append("X-Folded: first").Append(eol).Append("  continued").Append(eol);
                break;
            case WireMutation.HeaderWithoutColon:
                head.Append("X-No-Colon-Here").Append(eol);
                break;
            case WireMutation.OversizedHeaders:
                head.Append("X-Oversized: ").Append('a', 70 * 1024).Append(eol);
                break;
        }

        head.Append("Connection: close").Append(eol);
        var chunked = request.Chunked || wire is WireMutation.ContentLengthAndChunked or WireMutation.BrokenChunkedBody;
        switch (wire)
        {
            case WireMutation.ConflictingContentLengths:
                head.Append("Content-Length: ").Append(body.Length).Append(eol).Append("Content-Length: ").Append(body.Length + 7).Append(eol);
                break;
            case WireMutation.NegativeContentLength:
                head.Append("Content-Length: -").Append(body.Length + 1).Append(eol);
                break;
            case WireMutation.HugeContentLength:
                head.Append("Content-Length: 99999999999999999999999").Append(eol);
                break;
            case WireMutation.BodyShorterThanContentLength:
                head.Append("Content-Length: ").Append(body.Length + 100).Append(eol);
                break;
            case WireMutation.ContentLengthAndChunked:
                head.Append("Content-Length: ").Append(body.Length).Append(eol).Append("Transfer-Encoding: chunked").Append(eol);
                break;
            default:
                if (chunked)
                {
                    head.Append("Transfer-Encoding: chunked").Append(eol);
                }
                else if (request.Body is not null)
                {
                    head.Append("Content-Length: ").Append(body.Length).Append(eol);
                }

                break;
        }

        head.Append(eol);
        var output = new MemoryStream();
        output.Write(Encoding.Latin1.GetBytes(head.ToString()));
        if (chunked)
        {
            var size = wire == WireMutation.BrokenChunkedBody ? "zz" : body.Length.ToString("x", CultureInfo.InvariantCulture);
            output.Write(Encoding.ASCII.GetBytes(size + "\r\n"));
            output.Write(body);
            output.Write(Encoding.ASCII.GetBytes("\r\n0\r\n\r\n"));
        }
        else
        {
            output.Write(body);
        }

        return output.ToArray();
    }

    private static FuzzResponse Parse(byte[] response, TimeSpan elapsed)
    {
        // Skip interim responses (100 Continue): the final one is what the request got.
        while (response.AsSpan().StartsWith("HTTP/1.1 1"u8) && IndexOf(response, "\r\n\r\n"u8) is var interim and >= 0)
        {
            response = response[(interim + 4)..];
        }

        var end = IndexOf(response, "\r\n\r\n"u8);
        if (end < 0)
        {
            return new FuzzResponse(null, null, [], [], elapsed, response.Length == 0 ? "The server closed the connection without answering." : "Incomplete response head.");
        }

        var lines = Encoding.Latin1.GetString(response, 0, end).Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        if (statusParts.Length < 2 || !int.TryParse(statusParts[1], CultureInfo.InvariantCulture, out var status))
        {
            return new FuzzResponse(null, null, [], [], elapsed, $"Unparseable status line: {lines[0]}");
        }

        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .Select(p => new KeyValuePair<string, string>(p[0].Trim(), p.Length > 1 ? p[1].Trim() : string.Empty))
            .ToList();
        var body = response.AsSpan(end + 4).ToArray();
        if (headers.Any(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            body = Dechunk(body);
        }

        var contentType = headers.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
        var mediaType = contentType is null ? null : MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType : contentType;
        return new FuzzResponse(status, mediaType, headers, body, elapsed, null);
    }

    private static byte[] Dechunk(byte[] body)
    {
        var output = new MemoryStream();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = IndexOf(body.AsSpan(position), "\r\n"u8);
            if (lineEnd < 0 || !int.TryParse(Encoding.ASCII.GetString(body, position, lineEnd).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size == 0)
            {
                break;
            }

            position += lineEnd + 2;
            output.Write(body, position, Math.Min(size, body.Length - position));
            position += size + 2;
        }

        return output.ToArray();
    }

    private static int IndexOf(ReadOnlySpan<byte> data, ReadOnlySpan<byte> value) => data.IndexOf(value);

    public void Dispose() => _client.Dispose();
}
