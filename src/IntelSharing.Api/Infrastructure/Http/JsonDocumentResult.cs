using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.AspNetCore.Http.Metadata;

namespace IntelSharing.Api.Infrastructure.Http;

/// <summary>
/// Writes a JSON document that is already serialised (an alert as stored), with its status and headers,
/// so that reads return the exact bytes that were published and delivered, without a second serialisation.
/// </summary>
public class JsonDocumentResult(string json, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult
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

/// <summary>
/// A 200 whose stored document is a <typeparamref name="T"/>: the endpoint's return type declares that response, with
/// <typeparamref name="T"/> as its schema, although the bytes are written as stored.
/// </summary>
public sealed class JsonDocumentResult<T>(string json) : JsonDocumentResult(json), IEndpointMetadataProvider
{
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "IEndpointMetadataProvider is a static abstract member, as on ASP.NET Core's own Ok<T>.")]
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
}

/// <summary>A 201 whose stored document is a <typeparamref name="T"/>, declared like <see cref="JsonDocumentResult{T}"/>.</summary>
public sealed class CreatedJsonDocumentResult<T>(string json) : JsonDocumentResult(json, StatusCodes.Status201Created), IEndpointMetadataProvider
{
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "IEndpointMetadataProvider is a static abstract member, as on ASP.NET Core's own Ok<T>.")]
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status201Created, typeof(T), ["application/json"]));
}

/// <summary>
/// A JSON document already written as UTF-8 into a pooled buffer (a TAXII page, about 100 KB), sent as it is; the buffer
/// goes back to the pool once sent, or is left to the collector if the response is never written.
/// </summary>
public sealed class PooledJsonResult(ArrayPoolBufferWriter<byte> body) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType { get; init; } = "application/json; charset=utf-8";

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using (body)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType;
            if (Headers is not null)
            {
                foreach (var (name, value) in Headers)
                {
                    response.Headers[name] = value;
                }
            }

            response.ContentLength = body.WrittenCount;
            await response.BodyWriter.WriteAsync(body.WrittenMemory, httpContext.RequestAborted);
        }
    }
}
