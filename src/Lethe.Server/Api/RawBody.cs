using Microsoft.OpenApi;

namespace Lethe.Server.Api;

/// Handlers that stream a raw request body (uploads to storage, job artifacts) read it from the HttpRequest, and those
/// that stream a blob answer with IResult: the OpenAPI document would show neither. These describe them as bytes,
/// without the 415 that `Accepts` metadata would add for uploads that name another content type (the content type is
/// stored with the blob).
internal static class RawBody
{
    private static OpenApiMediaType Bytes() => new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };

    public static RouteHandlerBuilder WithBinaryResponse(this RouteHandlerBuilder builder)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Responses ??= [];
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "The blob's bytes, with the content type it was stored with.",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/octet-stream"] = Bytes() },
            };
            return Task.CompletedTask;
        });

    public static RouteHandlerBuilder WithRawBody(this RouteHandlerBuilder builder)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The blob's bytes; the request's Content-Type is stored with it.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/octet-stream"] = Bytes(),
                },
            };
            return Task.CompletedTask;
        });
}
