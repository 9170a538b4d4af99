/**
 * Recurring maintenance windows from the config (monitor.maintenance): every week on some days
 * (or every day), from a local time, for a duration, in a time zone. Pure: the time is given. The
 * local time is read with Intl in the window's zone; a window is counted in local minutes from its
 * start, so on the night a zone's clocks change it runs an hour longer or shorter in UTC.
 */

export interface Maintenance {
  match: Record<string, string>
  /** Local weekdays it starts on, 0 = Sunday; all seven when the config names none. */
  days: number[]
  /** Local start, in minutes after midnight. */
  startMinute: number
  durationMs: number
  timeZone: string
  comment: string
}

export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

const dayMs = 86_400_000

/** Reads local weekdays and times in each zone; one formatter per zone, built once (they are slow to build). */
export class MaintenanceClock {
  private readonly formats = new Map<string, Intl.DateTimeFormat>()

  /** Whether `now` falls in the window (one that began on an earlier day included). */
  within(window: Maintenance, now: number): boolean {
    const { weekday, minute } = this.local(window.timeZone, now)
    for (let daysBack = 0; daysBack * dayMs < window.durationMs + dayMs; daysBack++) {
      const startDay = (((weekday - daysBack) % 7) + 7) % 7
      const elapsedMs = (daysBack * 1440 + minute - window.startMinute) * 60_000
      if (elapsedMs >= 0 && elapsedMs < window.durationMs && window.days.includes(startDay)) return true
    }
    return false
  }

  private local(timeZone: string, now: number): { weekday: number; minute: number } {
    let format = this.formats.get(timeZone)
    if (format === undefined) {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
      this.formats.set(timeZone, format)
    }
    const parts = Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]))
    const weekday = weekdays.indexOf(String(parts.weekday).toLowerCase() as (typeof weekdays)[number])
    // Fractions of a minute count too: a window from 02:00 starts at 02:00:00.
    const seconds = Math.floor(now / 1000) % 60
    return { weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) + seconds / 60 }
  }
}
