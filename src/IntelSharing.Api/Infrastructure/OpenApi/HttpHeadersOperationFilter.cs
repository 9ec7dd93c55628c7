using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Declares the HTTP semantics that the endpoint's parameters and return type cannot express, as each slice lists them
/// on its endpoint: request headers such as Idempotency-Key and If-None-Match, response headers such as Location, ETag
/// and Idempotent-Replayed (<see cref="DocumentedHeader"/>), and what a status such as 304 means (<see cref="ResponseDescription"/>).
/// </summary>
public sealed class HttpHeadersOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        foreach (var header in metadata.OfType<DocumentedHeader>())
        {
            if (header.Status is { } status)
            {
                AddHeader(operation, $"{status}", header);
            }
            else
            {
                AddRequestHeader(operation, header);
            }
        }

        foreach (var described in metadata.OfType<ResponseDescription>())
        {
            if (operation.Responses?.TryGetValue($"{described.Status}", out var found) == true && found is OpenApiResponse response)
            {
                response.Description = described.Description;
            }
        }
    }

    private static void AddRequestHeader(OpenApiOperation operation, DocumentedHeader header)
    {
        // A header the endpoint binds ([FromHeader]) is already listed, with no description: this entry replaces it.
        var existing = operation.Parameters?.FirstOrDefault(p => p.In == ParameterLocation.Header && p.Name == header.Name);
        if (existing is not null)
        {
            operation.Parameters!.Remove(existing);
        }

        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = header.Name,
            In = ParameterLocation.Header,
            Required = false,
            Description = header.Description,
            Schema = header.Schema ?? new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create(header.Example),
        });
    }

    private static void AddHeader(OpenApiOperation operation, string status, DocumentedHeader header)
    {
        if (operation.Responses?.TryGetValue(status, out var found) != true || found is not OpenApiResponse response)
        {
            return;
        }

        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        response.Headers[header.Name] = new OpenApiHeader
        {
            Description = header.Description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create(header.Example),
        };
    }
}
