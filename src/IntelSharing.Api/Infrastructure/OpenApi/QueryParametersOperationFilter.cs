using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Describes the query parameters an endpoint documents with <see cref="QueryParameterDocs"/> metadata; the slice
/// that owns the endpoint says what they accept.
/// </summary>
public sealed class QueryParametersOperationFilter : IOperationFilter
{
    public void Apply(Microsoft.OpenApi.OpenApiOperation operation, OperationFilterContext context)
    {
        var docs = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<QueryParameterDocs>().ToList();
        if (docs.Count == 0 || operation.Parameters is null)
        {
            return;
        }

        foreach (var parameter in operation.Parameters.OfType<Microsoft.OpenApi.OpenApiParameter>())
        {
            if (docs.LastOrDefault(d => d.ByName.ContainsKey(parameter.Name!)) is { } named)
            {
                var doc = named.ByName[parameter.Name!];
                (parameter.Description, parameter.Schema, parameter.Example) = (doc.Description, doc.Schema, doc.Example);
            }
        }
    }
}
