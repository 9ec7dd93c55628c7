using System.Text;

namespace IntelSharing.Api.Infrastructure.Http;

/// <summary>
/// Writes a JSON document that is already serialised (an alert as stored), with its status and headers,
/// so that reads return the exact bytes that were published and delivered, without a second serialisation.
/// </summary>
public sealed class JsonDocumentResult(string json, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;

    public string? Location { get; init; }

    /// <summary>Another JSON media type for the same bytes, such as STIX's or TAXII's.</summary>
    public string ContentType { get; init; } = "application/json; charset=utf-8";

    public string? ETag { get; init; }

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = ContentType;
        if (Location is not null)
        {
            response.Headers.Location = Location;
        }

        if (ETag is not null)
        {
            response.Headers.ETag = ETag;
        }

        if (Headers is not null)
        {
            foreach (var (name, value) in Headers)
            {
                response.Headers[name] = value;
            }
        }

        // Encoded straight into the response's buffers: no copy of the document as a byte array per request (a page of
        // 200 alerts would be one on the large-object heap each time).
        response.ContentLength = Encoding.UTF8.GetByteCount(json);
        Encoding.UTF8.GetBytes(json, response.BodyWriter);
        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}
