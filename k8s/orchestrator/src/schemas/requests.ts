import { z } from "zod";

/** What each route accepts: strict schemas, so an unknown field is a 400 that names it. */

const id = (max: number) => z.string().min(1).max(max);

export const searchBody = z.strictObject({
  query: z.string().trim().min(1).max(1000),
  topK: z.number().int().min(1).max(50).optional(),
  userId: id(128).optional(),
  filters: z
    .strictObject({
      contentType: z.array(z.string().min(1).max(64)).max(10).optional(),
      sourcePrefix: z.string().min(1).max(512).optional(),
    })
    .optional(),
});

export const chatBody = z.strictObject({
  messages: z
    .array(z.strictObject({ role: z.enum(["user", "assistant", "system"]), content: z.string().min(1).max(8000) }))
    .min(1)
    .max(50)
    .refine((m) => m.at(-1)?.role === "user", { message: "the last message must have role 'user'" }),
  userId: id(128).optional(),
  stream: z.boolean().optional(),
  topK: z.number().int().min(1).max(20).optional(),
});

export const recommendationsQuery = z.strictObject({
  userId: id(128),
  scene: id(64).optional(),
  count: z.coerce.number().int().min(1).max(50).default(10),
});

const event = z
  .strictObject({
    type: z.enum(["expose", "click", "citation_open", "feedback"]),
    userId: id(128),
    queryId: id(128),
    docId: id(1024).optional(),
    query: z.string().min(1).max(1000).optional(),
    position: z.number().int().min(0).max(10_000).optional(),
    channel: z.enum(["search", "chat", "recs"]).optional(),
    value: z.enum(["up", "down"]).optional(),
    ts: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.type !== "feedback" && !e.docId)
      ctx.addIssue({ code: "custom", path: ["docId"], message: `required for ${e.type}` });
    if (e.type === "feedback" && !e.value)
      ctx.addIssue({ code: "custom", path: ["value"], message: "required for feedback ('up' or 'down')" });
    if (e.type !== "feedback" && e.value)
      ctx.addIssue({ code: "custom", path: ["value"], message: "only feedback has a value" });
    if (e.type === "expose" && e.channel !== "recs" && !e.query)
      ctx.addIssue({ code: "custom", path: ["query"], message: "required for expose outside the recs channel" });
  });

export const eventsBody = z.strictObject({ events: z.array(event).min(1).max(500) });
