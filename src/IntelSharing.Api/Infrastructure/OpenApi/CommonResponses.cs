using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Declares, once for every endpoint of the API, the problem responses that no handler returns because filters and
/// middleware write them: 400 (the validation behaviour, and every route refuses an undeclared query parameter), 401
/// (authentication), 403 where the endpoint requires a scope, 429 (each agency's rate limit). An endpoint declares
/// its own success and the problems its handler returns in its return type (<c>Results&lt;…&gt;</c>); 413, 415 and 503
/// are added to the document by <see cref="ProblemResponsesOperationFilter"/>. Responses are listed by status.
/// </summary>
public static class CommonResponses
{
    public static TBuilder DeclareCommonResponses<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: after the endpoint's own conventions, so that its authorization requirement is known.
        builder.Finally(Declare);
        return builder;
    }

    private static void Declare(EndpointBuilder endpoint)
    {
        var metadata = endpoint.Metadata;
        var declared = metadata.OfType<IProducesResponseTypeMetadata>().ToList();
        var responses = new List<IProducesResponseTypeMetadata>(declared);

        void Add(int status, Type body)
        {
            if (!declared.Any(response => response.StatusCode == status))
            {
                responses.Add(new ProducesResponseTypeMetadata(status, body, [Problems.ProblemResult.ProblemMediaType]));
            }
        }

        Add(StatusCodes.Status400BadRequest, typeof(HttpValidationProblemDetails));
        Add(StatusCodes.Status401Unauthorized, typeof(ProblemDetails));
        if (metadata.OfType<IAuthorizeData>().Any(requirement => requirement.Policy is not null))
        {
            Add(StatusCodes.Status403Forbidden, typeof(ProblemDetails));
        }

        Add(StatusCodes.Status429TooManyRequests, typeof(ProblemDetails));

        foreach (var response in declared)
        {
            metadata.Remove(response);
        }

        foreach (var response in responses.OrderBy(response => response.StatusCode))
        {
            metadata.Add(response);
        }
    }
}
