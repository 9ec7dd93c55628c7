using System.Text;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// One generated request. <see cref="Target"/> (path and query) and header values are byte strings: every
/// char is one byte on the wire (below U+0100), so invalid UTF-8 and control bytes can be expressed exactly.
/// </summary>
public sealed record FuzzRequest
{
    /// <summary>The endpoint the request was derived from, e.g. "POST api/v1/alerts".</summary>
    public required string Endpoint { get; init; }

    public required string Method { get; init; }

    public required string Target { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public byte[]? Body { get; init; }

    /// <summary>Send the body chunked (no Content-Length).</summary>
    public bool Chunked { get; init; }

    /// <summary>A wire-level request (malformed framing) that only a raw socket can send; see <see cref="RawHttp"/>.</summary>
    public WireMutation? Wire { get; init; }

    /// <summary>What was done to the valid request, in order; printed with every failure.</summary>
    public required IReadOnlyList<string> Mutations { get; init; }

    /// <summary>
    /// Whether only a raw socket can send it: broken framing, bytes HttpClient refuses in the target or headers
    /// (control bytes, non-ASCII, spaces), or framing headers HttpClient manages itself.
    /// </summary>
    public bool NeedsRawSocket =>
        Wire is not null
        || !Method.All(char.IsAsciiLetterUpper) || Method == "CONNECT"
        || Target.Any(c => c <= 0x20 || c >= 0x7F)
        || Headers.Any(h => h.Key.Length == 0 || h.Key.Any(c => c <= 0x20 || c >= 0x7F || c == ':')
            || h.Value.Any(c => (c < 0x20 && c != '\t') || c >= 0x7F)
            || FramingHeaders.Contains(h.Key));

    /// <summary>Beyond Kestrel's default limits (request line 8 KiB, headers 32 KiB, 100 headers): Kestrel answers before the application.</summary>
    public bool ExceedsServerLimits =>
        Method.Length + Target.Length + 10 > 8 * 1024
        || Headers.Sum(h => h.Key.Length + h.Value.Length + 4) > 30 * 1024
        || Headers.Count > 95;

    /// <summary>
    /// Requests Kestrel's HTTP/1.1 parser may refuse before the application runs (a bare 4xx with no body, or a
    /// closed connection). Every other request is answered by the application, and its 4xx must be a problem.
    /// </summary>
    public bool MayBeRefusedByTheServer => NeedsRawSocket || ExceedsServerLimits || HasEncodedNulInPath;

    /// <summary>
    /// The client promises body bytes it never sends and ends its side of the connection: Kestrel takes that for a
    /// client that went away, so an endpoint that never reads a body may act on the request with no answer arriving.
    /// </summary>
    public bool ClientEndsBodyEarly => Wire is WireMutation.BodyShorterThanContentLength or WireMutation.HugeContentLength;

    /// <summary>Kestrel refuses a path whose percent-decoding holds a NUL (%00) before routing.</summary>
    public bool HasEncodedNulInPath => Target.Split('?')[0].Contains("%00", StringComparison.Ordinal);

    private static readonly HashSet<string> FramingHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Content-Length", "Expect", "Host", "Connection",
    };

    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    /// <summary>A readable, bounded rendering for failure messages: control bytes and long runs escaped or cut.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(Method).Append(' ').Append(Shorten(Target, 300)).Append('\n');
        foreach (var (name, value) in Headers)
        {
            text.Append("  ").Append(Shorten(name, 60)).Append(": ").Append(Shorten(value, 200)).Append('\n');
        }

        if (Wire is not null)
        {
            text.Append("  [wire] ").Append(Wire).Append('\n');
        }

        if (Body is not null)
        {
            text.Append("  body (").Append(Body.Length).Append(" bytes").Append(Chunked ? ", chunked" : string.Empty).Append("): ")
                .Append(Shorten(Encoding.Latin1.GetString(Body, 0, Math.Min(Body.Length, 2000)), 600)).Append('\n');
        }

        text.Append("  mutations: ").Append(string.Join("; ", Mutations));
        return text.ToString();
    }

    public static string Shorten(string value, int max)
    {
        var builder = new StringBuilder();
        foreach (var ch in value.Length > max ? value[..max] : value)
        {
            if (ch < 0x20 || ch == 0x7F || (ch >= 0x80 && ch < 0xA0))
            {
                builder.Append(@"\x").Append(((int)ch).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(ch);
            }
        }

        if (value.Length > max)
        {
            builder.Append("…(").Append(value.Length).Append(" chars)");
        }

        return builder.ToString();
    }

}

/// <summary>HTTP/1.1 framing faults a raw socket can produce.</summary>
public enum WireMutation
{
    BareLineFeeds,
    ObsoleteLineFolding,
    HeaderWithoutColon,
    SpaceBeforeColon,
    ConflictingContentLengths,
    ContentLengthAndChunked,
    NegativeContentLength,
    HugeContentLength,
    BodyShorterThanContentLength,
    BrokenChunkedBody,
    MissingHost,
    TwoHosts,
    AbsoluteFormTarget,
    LowerCaseMethod,
    Http10,
    OversizedHeaders,
}

/// <summary>What came back. <see cref="Status"/> is null when no response arrived (see <see cref="Error"/>).</summary>
public sealed record FuzzResponse(int? Status, string? MediaType, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, TimeSpan Elapsed, string? Error)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public string BodyExcerpt => FuzzRequest.Shorten(Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 1000)), 500);
}
