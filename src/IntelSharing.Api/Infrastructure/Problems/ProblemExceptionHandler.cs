using System.Globalization;
using System.Text.Json;
using FluentValidation;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Infrastructure.Problems;

/// <summary>
/// The one place exceptions become responses. Validation failures and malformed requests are client
/// mistakes (4xx, fields named); an unreachable database is a 503 with Retry-After; anything else is a bug
/// and the only path to a 500.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ValidationException validation => FromValidation(validation),
            BadHttpRequestException badRequest => FromBadRequest(badRequest),
            JsonException json => FromJson(json),
            InvalidOperationException when HasUnknownCharset(httpContext.Request) => UnknownCharset(httpContext.Request),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => null,
            _ when DatabaseFailures.IsUnavailable(exception) => Unavailable(httpContext),
            _ => null,
        };

        if (problem is null)
        {
            if (httpContext.RequestAborted.IsCancellationRequested)
            {
                // The client went away; there is nobody to answer.
                return true;
            }

            logger.LogError(exception, "Unhandled exception on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Type = ProblemTypes.Internal,
                Title = "Internal server error",
                Detail = "The server failed to process the request. It has been logged with the trace id below.",
            };
        }

        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ValidationProblemDetails FromValidation(ValidationException exception)
    {
        var errors = exception.Errors
            .GroupBy(e => Echo(FieldNames.ToJsonPath(e.PropertyName), MaxFieldEcho))
            .ToDictionary(g => g.Key, g => g.Select(e => Echo(e.ErrorMessage, MaxMessageEcho)).Distinct().ToArray());
        var truncated = exception is TruncatedValidationException;
        var problem = new ValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.Validation,
            Title = "The request is invalid",
            Detail = (errors.Count == 1
                ? $"1 field is invalid: {errors.Keys.First()}."
                : $"{errors.Count} fields are invalid: {string.Join(", ", errors.Keys)}.")
                + (truncated ? $" Only the first {ValidationErrors.MaxReported} errors are reported; there are more." : string.Empty),
        };
        if (truncated)
        {
            problem.Extensions["errorsTruncated"] = true;
        }

        return problem;
    }

    // Messages quote the value that was wrong ('…' is not a country code) and JSON paths quote property names:
    // both come from the request, so they are cut to a fixed length rather than echoed whole.
    private const int MaxMessageEcho = 300;
    private const int MaxFieldEcho = 200;

    private static string Echo(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var cut = char.IsHighSurrogate(text[max - 2]) ? max - 2 : max - 1;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            return FromJson(json);
        }

        // Minimal APIs report an empty body, or a JSON null, as a missing body parameter (naming .NET types): say it in the client's terms.
        if (exception.StatusCode == StatusCodes.Status400BadRequest && exception.Message.Contains("was not provided from body", StringComparison.Ordinal))
        {
            const string Message = "A JSON request body is required.";
            return new ValidationProblemDetails(new Dictionary<string, string[]> { ["body"] = [Message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Type = ProblemTypes.MalformedRequest,
                Title = "The request body is not valid JSON for this operation",
                Detail = $"'body': {Message}",
            };
        }

        return exception.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => new ProblemDetails
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Type = ProblemTypes.PayloadTooLarge,
                Title = "Payload too large",
                Detail = exception.Message,
            },
            StatusCodes.Status415UnsupportedMediaType => new ProblemDetails
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Type = ProblemTypes.UnsupportedMediaType,
                Title = "Unsupported media type",
                Detail = "The request body must be sent as 'application/json'.",
            },
            _ => new ProblemDetails
            {
                Status = exception.StatusCode is >= 400 and < 500 ? exception.StatusCode : StatusCodes.Status400BadRequest,
                Type = ProblemTypes.MalformedRequest,
                Title = "Malformed request",
                Detail = exception.Message,
            },
        };
    }

    private static ValidationProblemDetails FromJson(JsonException exception)
    {
        var message = DescribeJsonError(exception);
        // A syntax error belongs to the body, not to the property the reader happened to be in; its position says where.
        var syntaxError = message == NotWellFormed;
        var field = !syntaxError && FieldNames.FromJsonPath(exception.Path) is { Length: > 0 } path ? Echo(path, MaxFieldEcho) : "body";
        if (syntaxError && exception.LineNumber is { } line && exception.BytePositionInLine is { } position)
        {
            message = string.Create(CultureInfo.InvariantCulture, $"{NotWellFormed[..^1]} (line {line + 1}, byte {position + 1}).");
        }

        return new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.MalformedRequest,
            Title = "The request body is not valid JSON for this operation",
            Detail = $"'{field}': {message}",
        };
    }

    private static string DescribeJsonError(JsonException exception)
    {
        // System.Text.Json messages name .NET types; say what the client sent wrong instead.
        if (exception is OffsetRequiredException)
        {
            return OffsetRequiredException.Description;
        }

        if (exception is NotAnAllowedValueException)
        {
            return exception.Message;
        }

        var message = exception.Message;
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return "The value has the wrong type or is not one of the allowed values.";
        }

        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return "The property appears more than once.";
        }

        if (message.Contains("could not be mapped", StringComparison.Ordinal) || message.Contains("unmapped", StringComparison.OrdinalIgnoreCase))
        {
            return "This property is not part of the request schema.";
        }

        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "The document is nested too deeply.";
        }

        if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            return "Required properties are missing.";
        }

        return NotWellFormed;
    }

    private const string NotWellFormed = "The body is not well-formed JSON.";

    /// <summary>
    /// The framework reads JSON bodies in the charset the Content-Type names and throws a plain
    /// InvalidOperationException when it knows no such encoding; that is the client's mistake, not ours.
    /// </summary>
    private static bool HasUnknownCharset(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !mediaType.Charset.HasValue)
        {
            return false;
        }

        try
        {
            _ = System.Text.Encoding.GetEncoding(mediaType.Charset.ToString());
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    private static ProblemDetails UnknownCharset(HttpRequest request) => new()
    {
        Status = StatusCodes.Status415UnsupportedMediaType,
        Type = ProblemTypes.UnsupportedMediaType,
        Title = "Unsupported media type",
        Detail = $"The request body must be sent as 'application/json' in UTF-8; '{request.ContentType}' names a charset this API cannot read.",
    };

    private static ProblemDetails Unavailable(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "5";
        return new ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Type = ProblemTypes.ServiceUnavailable,
            Title = "Service unavailable",
            Detail = "The database cannot be reached. Nothing was stored; retry after the indicated delay.",
        };
    }
}
