// Kubernetes timestamps (metav1.Time): RFC 3339, UTC, whole seconds.

export const timestamp = (at: Date = new Date()): string => at.toISOString().replace(/\.\d+Z$/, 'Z');
