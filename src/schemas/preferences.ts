import { Type, type Static } from '@sinclair/typebox'
import { UserId } from './common.js'

const Switch = Type.Union([Type.Literal('on'), Type.Literal('off')])

export const UserParams = Type.Object({ userId: UserId })

const Categories = Type.Record(Type.String({ pattern: '^.{1,64}$' }), Switch, {
  additionalProperties: false,
  maxProperties: 100,
  description: 'Per campaign category, e.g. `{"loans": "off"}`. `off` stops marketing and service messages of that category; categories not listed are on.'
})

export const PreferencesBody = Type.Object({
  marketing: Type.Union([Type.Literal('on'), Type.Literal('off')], { description: '`off` stops every marketing pop-up; service and critical messages still come.' }),
  categories: Type.Optional(Categories),
  snoozeUntil: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'No marketing pop-ups until this time (in the future, at most a year ahead); null or absent: no snooze.'
  }))
}, { additionalProperties: false, $id: 'PreferencesRequest', description: 'A user\'s preferences; PUT replaces them whole.' })
export type PreferencesBody = Static<typeof PreferencesBody>

export const PreferencesAnswer = Type.Object({
  marketing: Switch,
  categories: Type.Record(Type.String(), Switch),
  snoozeUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'null when no snooze is running.' })
}, { $id: 'Preferences', description: 'A user\'s preferences as decisions apply them; a user never seen has the defaults (all on, no snooze).' })
