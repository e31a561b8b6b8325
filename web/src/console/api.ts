// The console's HTTP API client. The session cookie is HttpOnly; state-changing
// requests carry the CSRF token from Me.

import type {
  ApiError,
  SavedReply,
  SavedReplyRequest,
  SiteOriginRequest,
  SiteSettings,
  SitePolicy,
  ConversationPage,
  ImageAnnotations,
  ConversationStatus,
  CreateUserRequest,
  Me,
  ProfileRequest,
  SetPasswordRequest,
  Transcript,
  UpdateUserRequest,
  UserInfo,
} from "../protocol.gen";
import { sentence } from "../lib/format";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";
let onUnauthorized: (() => void) | null = null;

export function setCsrf(token: string): void {
  csrf = token;
}

/** The CSRF token for requests made outside this module (image uploads). */
export function getCsrf(): string {
  return csrf;
}

/** Called when a request (other than login / me) answers 401: the session ended. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

const FALLBACK: Record<number, string> = {
  400: "The request was not accepted.",
  401: "Please log in.",
  403: "You are not allowed to do that.",
  404: "Not found.",
  409: "That conflicts with existing data.",
  413: "That is too large.",
  429: "Too many attempts. Please wait a moment and try again.",
};

async function request<T>(method: string, path: string, body?: unknown, opts: { authProbe?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") {
    headers["x-csrf-token"] = csrf;
    if (body !== undefined) headers["content-type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new HttpError(0, "network", "Cannot reach the server. Check your connection.");
  }
  if (res.ok) {
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  let err: Partial<ApiError> = {};
  try {
    err = (await res.json()) as ApiError;
  } catch {
    /* not JSON */
  }
  if (res.status === 401 && !opts.authProbe && onUnauthorized) onUnauthorized();
  throw new HttpError(res.status, err.error || String(res.status), sentence(err.message || FALLBACK[res.status] || `Request failed (${res.status}).`));
}

export const api = {
  me: () => request<Me>("GET", "/api/me", undefined, { authProbe: true }),
  login: (name: string, password: string) => request<Me>("POST", "/api/login", { name, password }, { authProbe: true }),
  logout: () => request<void>("POST", "/api/logout", undefined, { authProbe: true }),
  users: () => request<UserInfo[]>("GET", "/api/users"),
  createUser: (req: CreateUserRequest) => request<UserInfo>("POST", "/api/users", req),
  updateUser: (id: number, req: UpdateUserRequest) => request<UserInfo>("PATCH", `/api/users/${id}`, req),
  updateMe: (req: ProfileRequest) => request<Me>("PATCH", "/api/me", req),
  setProfile: (id: number, req: ProfileRequest) => request<UserInfo>("PUT", `/api/users/${id}/profile`, req),
  setPassword: (id: number, req: SetPasswordRequest) => request<void>("POST", `/api/users/${id}/password`, req),
  conversations: (q: { q?: string; status?: ConversationStatus | ""; before?: number | null; limit?: number; visitorOf?: string }) => {
    const p = new URLSearchParams();
    if (q.q) p.set("q", q.q);
    if (q.visitorOf) p.set("visitor_of", q.visitorOf);
    if (q.status) p.set("status", q.status);
    if (q.before !== undefined && q.before !== null) p.set("before", String(q.before));
    if (q.limit) p.set("limit", String(q.limit));
    const qs = p.toString();
    return request<ConversationPage>("GET", "/api/conversations" + (qs ? "?" + qs : ""));
  },
  annotations: (imageId: string) => request<ImageAnnotations>("GET", `/api/images/${encodeURIComponent(imageId)}/annotations`),
  siteSettings: () => request<SiteSettings>("GET", "/api/admin/site"),
  sitePolicy: () => request<SitePolicy>("GET", "/api/admin/policy"),
  setSitePolicy: (policy: SitePolicy) => request<SitePolicy>("PUT", "/api/admin/policy", policy),
  siteOrigin: (method: "POST" | "DELETE", req: SiteOriginRequest) => request<void>(method, "/api/admin/site/origins", req),
  savedReplies: () => request<SavedReply[]>("GET", "/api/saved-replies"),
  createSavedReply: (req: SavedReplyRequest) => request<SavedReply>("POST", "/api/saved-replies", req),
  updateSavedReply: (id: number, req: SavedReplyRequest) => request<SavedReply>("PUT", `/api/saved-replies/${id}`, req),
  deleteSavedReply: (id: number) => request<void>("DELETE", `/api/saved-replies/${id}`),
  transcript: (id: string) => request<Transcript>("GET", `/api/conversations/${encodeURIComponent(id)}`),
};
