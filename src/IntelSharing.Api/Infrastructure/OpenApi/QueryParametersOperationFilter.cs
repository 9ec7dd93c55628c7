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
        var docs = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<QueryParameterDocs>().LastOrDefault();
        if (docs is null || operation.Parameters is null)
        {
            return;
        }

        foreach (var parameter in operation.Parameters.OfType<Microsoft.OpenApi.OpenApiParameter>())
        {
            if (docs.ByName.TryGetValue(parameter.Name!, out var doc))
            {
                (parameter.Description, parameter.Schema, parameter.Example) = (doc.Description, doc.Schema, doc.Example);
            }
        }
    }
}
