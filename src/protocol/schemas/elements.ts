/**
 * `MsgBody` element schemas (Tencent's Message Formats page: https://cloud.tencent.com/document/product/269/2720).
 * A `MsgBody` is an array of `{ MsgType, MsgContent }`; an element whose `MsgType` is not one of
 * the nine below is kept as an opaque object (Tencent adds types; group tips exist undocumented).
 */
import { arr, int, num, obj, ref, req, str, uint32, type Schema } from './dsl.js'

const element = (type: string, content: Schema, description: string): Schema =>
  obj(
    {
      MsgType: req({ type: 'string', const: type }),
      MsgContent: req(content),
    },
    { title: type, description },
  )

export const KNOWN_ELEMENT_TYPES = [
  'TIMTextElem',
  'TIMLocationElem',
  'TIMFaceElem',
  'TIMCustomElem',
  'TIMSoundElem',
  'TIMImageElem',
  'TIMFileElem',
  'TIMVideoFileElem',
  'TIMRelayElem',
] as const

/** Shared definitions, referenced by the command schemas as `#/definitions/<name>`. */
export const definitions: Record<string, Schema> = {
  TIMTextElem: element('TIMTextElem', obj({ Text: req(str('message text')) }), 'A text element.'),
  TIMLocationElem: element(
    'TIMLocationElem',
    obj({ Desc: str('location description'), Latitude: num(), Longitude: num() }),
    'A location element.',
  ),
  TIMFaceElem: element('TIMFaceElem', obj({ Index: int('app-defined emoji index'), Data: str() }), 'An emoji element.'),
  TIMCustomElem: element(
    'TIMCustomElem',
    obj({
      Data: str('custom payload; not delivered in the APNs payload'),
      Desc: str('offline push text'),
      Ext: str('passed as `ext` in the APNs payload'),
      Sound: str('APNs sound file'),
    }),
    'A custom element; at most one per message.',
  ),
  TIMSoundElem: element(
    'TIMSoundElem',
    obj({
      Url: str(),
      UUID: str(),
      Size: int('bytes'),
      Second: int('duration in seconds'),
      Download_Flag: int('2 = download from Url'),
    }),
    'A voice element.',
  ),
  TIMImageElem: element(
    'TIMImageElem',
    obj({
      UUID: str(),
      ImageFormat: int('1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other'),
      ImageInfoArray: arr(
        obj({
          Type: int('1 original, 2 large, 3 thumbnail'),
          Size: int('bytes'),
          Width: int(),
          Height: int(),
          URL: str('upper-case `URL` here, unlike `Url` elsewhere'),
        }),
      ),
    }),
    'An image element.',
  ),
  TIMFileElem: element(
    'TIMFileElem',
    obj({ Url: str(), UUID: str(), FileSize: int('bytes'), FileName: str(), Download_Flag: int() }),
    'A file element.',
  ),
  TIMVideoFileElem: element(
    'TIMVideoFileElem',
    obj({
      VideoUrl: str(),
      VideoUUID: str(),
      VideoSize: int('bytes'),
      VideoSecond: int('seconds; Web clients send 0'),
      VideoFormat: str('e.g. "mp4"'),
      VideoDownloadFlag: int(),
      ThumbUrl: str(),
      ThumbUUID: str(),
      ThumbSize: int(),
      ThumbWidth: int(),
      ThumbHeight: int(),
      ThumbFormat: str('e.g. "JPG"'),
      ThumbDownloadFlag: int(),
    }),
    'A video element.',
  ),
  RelayMsgItem: obj(
    {
      From_Account: str(),
      To_Account: str('one-to-one messages only'),
      GroupId: str('group messages only'),
      MsgSeq: uint32(),
      MsgRandom: uint32(),
      MsgTimeStamp: int('seconds'),
      MsgBody: arr(ref('MsgElement')),
      CloudCustomData: str(),
    },
    { title: 'RelayMsgItem', description: 'One forwarded message inside a TIMRelayElem.' },
  ),
  TIMRelayElem: element(
    'TIMRelayElem',
    obj({
      Title: str(),
      MsgNum: int(),
      CompatibleText: str('shown by SDKs that cannot render merged messages'),
      AbstractList: arr(str()),
      MsgList: arr(ref('RelayMsgItem'), 'inline when the forwarded messages total at most 12 KB'),
      JsonMsgKey: str('a key to download the forwarded messages when they exceed 12 KB'),
    }),
    'A merged-forward element.',
  ),
  OpaqueMsgElement: obj(
    { MsgType: req(str()), MsgContent: { description: 'undocumented content, kept as received' } },
    {
      title: 'OpaqueMsgElement',
      description: 'An element whose MsgType timhook does not know; kept as received.',
    },
  ),
  MsgElement: {
    ...obj({ MsgType: req(str()) }),
    title: 'MsgElement',
    description: 'One element of a MsgBody: a known TIM*Elem, or an opaque element of another MsgType.',
    tsType: [...KNOWN_ELEMENT_TYPES, 'OpaqueMsgElement'].join(' | '),
    allOf: KNOWN_ELEMENT_TYPES.map((t) => ({
      if: { properties: { MsgType: { const: t } } },
      then: ref(t),
    })),
  },
  MsgSeqItem: obj(
    { MsgSeq: req(uint32()), MsgId: str('client message id (newer pages)') },
    { title: 'MsgSeqItem', description: 'One recalled group message.' },
  ),
  GroupAtItem: obj(
    { GroupAtAllFlag: int('1 = @all'), GroupAt_Account: str('the @-mentioned user') },
    { title: 'GroupAtItem', description: 'One @-mention of a group message.' },
  ),
  MemberItem: obj({ Member_Account: str() }, { title: 'MemberItem' }),
}

/** Helpers for command schemas. */
export const msgBody = (description = 'message elements'): Schema => arr(ref('MsgElement'), description)
